import { rmSync } from 'node:fs';
import mqtt from 'mqtt';
import { startBroker } from '../broker/broker.js';
import { writeConfigDir } from '../harness/config-dir.js';
import { GatewayProcess } from '../harness/gateway-process.js';
import { startModbusTcpSimulator } from '../modbus-sim/server.js';
import { PtyWriter } from '../scanner-sim/pty-writer.js';
import { scanFrame } from '../scanner-sim/scanner.js';
import { createPtyPair } from '../serial/pty.js';
import { parseBatch, type LayoutLog } from '../subscriber/payload.js';

/**
 * `npm run demo -- --parking`: a car park exit, both directions of the gateway on one machine.
 * A serial barcode scanner (simulated, on a socat pty pair) -> the real gateway daemon -> the
 * broker -> a small command centre here that sees the scan event, "checks payment" (a ticket
 * ending in an even digit is paid) and publishes a pulse command for the barrier with a fresh id
 * and a 5 s expiry -> the gateway -> the barrier controller (a Modbus TCP simulator: coil 0) ->
 * the outcome event, shown with the round trip from the scan event seen to the executed outcome.
 */
const GATEWAY_ID = 'p3-car-park';
const PREFIX = 'city/parking';
const SCAN_EVERY_MS = 2500;
const FINAL = new Set(['executed', 'failed', 'readback-mismatch', 'rejected', 'expired', 'interrupted', 'duplicate']);

const say = (s: string): void => void process.stdout.write(`[demo] ${s}\n`);

export async function runParkingDemo(durationS: number): Promise<boolean> {
  const broker = await startBroker({ ownProcessGroup: true });
  const scanner = await createPtyPair(); // socat: the driver opens end a as it would /dev/ttyUSB0
  const barrier = await startModbusTcpSimulator({ units: [1], clock: 'manual' });
  const config = writeConfigDir({
    gatewayId: GATEWAY_ID,
    topicPrefix: PREFIX,
    brokerUrls: [broker.url],
    gateway: { commands: { enabled: true, maxExpiryAhead: '30s' } },
    devices: {
      // As config/examples/parking: exit-scanner (serial here, evdev there) and exit-barrier.
      'exit-scanner': {
        type: 'barcode-serial',
        port: { path: scanner.a, baudRate: 9600 },
        terminator: 'CR',
        site: 'P3',
        gate: 'south',
        lane: 2,
        direction: 'exit',
        validate: { pattern: '^T\\d{10}$' },
      },
      'exit-barrier': {
        type: 'modbus-tcp',
        host: barrier.host,
        port: barrier.port,
        unitId: 1,
        intervalMs: 200,
        timeoutMs: 500,
        registers: [{ name: 'arm.up', table: 'coil', address: 0, type: 'bool' }],
        writes: [{ name: 'open', table: 'coil', address: 0, type: 'bool', pulse: { minMs: 300, maxMs: 2000, defaultMs: 800 }, pulseOnly: true, minInterval: 1000 }],
      },
    },
  });
  const gateway = GatewayProcess.start(config.dir, { ownProcessGroup: true });
  const writer = new PtyWriter(scanner.b);
  const centre = await mqtt.connectAsync(broker.url, { clientId: `demo-command-centre-${process.pid}`, clean: true });
  const layouts: LayoutLog = new Map();
  const topic = (kind: string) => `${PREFIX}/${GATEWAY_ID}/${kind}`;
  const pending = new Map<string, { ticket: string; seenAt: number }>();
  const tally = { scans: 0, paid: 0, unpaid: 0, commands: 0, executed: 0, other: 0, roundTrips: [] as number[] };
  let coilWasOn = false;
  let lastCommandSeenAt = 0;

  centre.on('message', (_t, payload) => {
    const parsed = parseBatch(payload, GATEWAY_ID, layouts);
    if (!parsed.ok) return;
    for (const r of parsed.value.readings) {
      if (r.device === 'exit-scanner' && r.point === 'scan') {
        const seenAt = performance.now();
        const ticket = String(r.value);
        tally.scans++;
        if (r.attrs?.valid !== true) {
          say(`scan ${ticket} at ${r.attrs?.gate}/${r.attrs?.lane}: not a ticket, ignored`);
          continue;
        }
        // The payment check: a real centre asks its payment system; here even last digit = paid.
        if (Number(ticket.at(-1)) % 2 !== 0) {
          tally.unpaid++;
          say(`scan ${ticket} at exit ${r.attrs?.gate}/${r.attrs?.lane}: NOT paid -> barrier stays closed`);
          continue;
        }
        tally.paid++;
        const now = Date.now();
        const id = `open-${ticket}-${now.toString(36)}`;
        pending.set(id, { ticket, seenAt });
        lastCommandSeenAt = seenAt;
        tally.commands++;
        say(`scan ${ticket} at exit ${r.attrs?.gate}/${r.attrs?.lane}: paid -> command ${id} (pulse 800 ms, expires in 5 s)`);
        const command = { v: 1, id, device: 'exit-barrier', point: 'open', action: 'pulse', durationMs: 800, expiresAt: now + 5000, issuedAt: now };
        centre.publish(topic('commands'), JSON.stringify(command), { qos: 1 });
      } else if (r.device === '_gateway' && r.point === 'command') {
        const id = String(r.attrs?.id);
        const p = pending.get(id);
        if (!p) continue;
        const outcome = String(r.value);
        if (!FINAL.has(outcome)) {
          say(`  ${id}: ${outcome}`);
          continue;
        }
        pending.delete(id);
        const rt = performance.now() - p.seenAt;
        if (outcome === 'executed') {
          tally.executed++;
          tally.roundTrips.push(rt);
        } else tally.other++;
        say(`  ${id}: ${outcome}${r.attrs?.reason ? ` (${r.attrs.reason})` : ''}, round trip ${rt.toFixed(0)} ms (scan event seen -> outcome)`);
      }
    }
  });
  await centre.subscribeAsync(topic('events'), { qos: 1 });

  await gateway.ready(30_000);
  await gateway.waitForLog((l) => l.msg === 'subscribed', 15_000);
  say(`gateway ${GATEWAY_ID} running; scanner on ${scanner.a} (socat pty), barrier controller at ${barrier.host}:${barrier.port}; broker ${broker.kind} ${broker.url}`);
  say('command centre: a ticket ending in an even digit is paid');

  // The barrier controller's coil, watched as a technician's multimeter would.
  const watch = setInterval(() => {
    const on = barrier.unit(1).coil[0] === 1;
    if (on !== coilWasOn) say(`barrier controller: coil 0 ${on ? `ON (arm raising), ${(performance.now() - lastCommandSeenAt).toFixed(0)} ms after the scan event was seen` : 'off'}`);
    coilWasOn = on;
  }, 10);
  let n = 0;
  const scan = async () => {
    n++;
    await writer.write(scanFrame({ code: `T${String(4711000000 + n)}`, terminator: '\r' }));
  };
  await scan();
  const scans = setInterval(() => void scan(), SCAN_EVERY_MS);
  await new Promise((r) => setTimeout(r, durationS * 1000));
  clearInterval(scans);
  // The last command's outcome.
  const deadline = Date.now() + 6000;
  while (pending.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  clearInterval(watch);

  const exit = await gateway.stop();
  await centre.endAsync();
  await writer.close();
  await scanner.close();
  await barrier.stop();
  await broker.dispose();
  rmSync(config.dir, { recursive: true, force: true });
  // Round trips include the 800 ms pulse: the outcome is executed once the coil is off again.
  const rts = [...tally.roundTrips].sort((a, b) => a - b);
  const ok = exit.code === 0 && tally.paid > 0 && tally.executed === tally.commands && tally.other === 0 && barrier.unit(1).coil[0] === 0;
  say(
    `parking: ${tally.scans} scans, ${tally.paid} paid, ${tally.unpaid} not paid; ${tally.commands} commands, ${tally.executed} executed, ${tally.other} other; ` +
      `round trip median ${rts.length ? rts[Math.floor(rts.length / 2)]!.toFixed(0) : 'n/a'} ms, max ${rts.length ? rts.at(-1)!.toFixed(0) : 'n/a'} ms; gateway exit ${exit.code} -> ${ok ? 'OK' : 'NOT OK'}`,
  );
  return ok;
}
