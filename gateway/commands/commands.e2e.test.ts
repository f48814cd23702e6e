import { generateKeyPairSync, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startBroker, type BrokerFixture } from '../../test-rigs/broker/broker.js';
import { writeConfigDir, type ConfigDir } from '../../test-rigs/harness/config-dir.js';
import { GatewayProcess } from '../../test-rigs/harness/gateway-process.js';
import { runCli } from '../../test-rigs/harness/run-cli.js';
import { startModbusTcpSimulator, type ModbusTcpSimulator } from '../../test-rigs/modbus-sim/server.js';
import { startSubscriber, type Subscriber } from '../../test-rigs/subscriber/subscriber.js';
import { parseCommand } from './command-message.js';
import { signedBytes } from './signature.js';

/**
 * The command channel end to end: a command centre's MQTT client -> mosquitto -> the real daemon
 * -> the Modbus TCP simulator; outcomes come back as events through the outbox to a subscriber.
 * The simulator's raw words are the ground truth of what was actuated.
 */
const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const { publicKey, privateKey } = generateKeyPairSync('ed25519');

interface Rig {
  broker: BrokerFixture;
  sim: ModbusTcpSimulator;
  config: ConfigDir;
  sub: Subscriber;
  centre: mqtt.MqttClient;
  gw: GatewayProcess;
}

async function rig(opts: { signed?: boolean; rate?: { perSecond: number; burst: number } } = {}): Promise<Rig> {
  const broker = await startBroker();
  cleanups.push(() => broker.dispose());
  const sim = await startModbusTcpSimulator({ units: [1], clock: 'manual' });
  cleanups.push(() => sim.stop());
  const config = writeConfigDir({
    brokerUrls: [broker.url],
    gateway: { commands: { enabled: true, maxExpiryAhead: '1m', ...(opts.rate && { rate: opts.rate }), ...(opts.signed && { publicKeys: [{ id: 'cc', file: 'cc.pub' }] }) } },
    devices: {
      'exit-barrier': {
        type: 'modbus-tcp',
        host: sim.host,
        port: sim.port,
        intervalMs: 100,
        timeoutMs: 300,
        registers: [{ name: 'arm.up', table: 'coil', address: 0, type: 'bool' }],
        writes: [
          { name: 'open', table: 'coil', address: 0, type: 'bool', pulse: { minMs: 50, maxMs: 2000, defaultMs: 200 }, pulseOnly: true, minInterval: 0 },
          { name: 'sign.program', address: 10, type: 'uint16', allowed: [0, 1, 2], minInterval: 0, requireSignature: false },
          { name: 'heating.setpoint', address: 20, type: 'float32', order: 'CDAB', min: 5, max: 30, minInterval: 0 },
        ],
      },
    },
  });
  writeFileSync(join(config.dir, 'cc.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  const sub = await startSubscriber({ url: broker.url, prefix: config.topicPrefix, gatewayId: config.gatewayId, clientId: `cmd-e2e-sub-${process.pid}`, clean: true, keepReadings: true });
  cleanups.push(() => sub.stop());
  const gw = GatewayProcess.start(config.dir);
  cleanups.push(() => gw.stop());
  await gw.ready();
  await gw.waitForLog((l) => l.msg === 'subscribed');
  const centre = await mqtt.connectAsync(broker.url, { clientId: `cmd-e2e-centre-${process.pid}` });
  cleanups.push(() => centre.endAsync());
  return { broker, sim, config, sub, centre, gw };
}

function command(r: Rig, fields: Record<string, unknown>, sig = false): Promise<unknown> {
  const c = { v: 1, device: 'exit-barrier', expiresAt: Date.now() + 20_000, ...fields };
  if (sig) {
    const parsed = parseCommand(JSON.stringify(c), 'mqtt');
    if (!parsed.ok) throw new Error(parsed.reason);
    (c as Record<string, unknown>).sig = sign(null, signedBytes(r.config.gatewayId, parsed.command), privateKey).toString('base64');
  }
  return r.centre.publishAsync(`${r.config.topicPrefix}/${r.config.gatewayId}/commands`, JSON.stringify(c), { qos: 1 });
}

const outcomes = (r: Rig, id: string) => r.sub.readings.filter((x) => x.device === '_gateway' && x.point === 'command' && x.attrs?.id === id).map((x) => x.value);
async function finalOutcome(r: Rig, id: string): Promise<unknown> {
  const finals = ['executed', 'failed', 'readback-mismatch', 'rejected', 'expired', 'interrupted', 'duplicate'];
  await r.sub.waitFor(() => outcomes(r, id).some((o) => finals.includes(String(o))), 20_000);
  return outcomes(r, id).find((o) => finals.includes(String(o)));
}

describe('command channel end to end (mosquitto, real daemon, Modbus TCP simulator)', () => {
  it('pulses a barrier, writes a setpoint in word-swapped float32, and reports each outcome as a durable event', async () => {
    const r = await rig();
    await command(r, { id: 'open-1', point: 'open', action: 'pulse', durationMs: 300 });
    await r.sub.waitFor(() => outcomes(r, 'open-1').includes('accepted'), 20_000);
    expect(await finalOutcome(r, 'open-1')).toBe('executed');
    expect(r.sim.unit(1).coil[0]).toBe(0); // on, then off again
    const polledUp = r.sub.readings.some((x) => x.device === 'exit-barrier' && x.point === 'arm.up' && x.value === true);
    expect(polledUp, 'a poll saw the coil on during the 300 ms pulse').toBe(true);

    await command(r, { id: 'heat-1', point: 'heating.setpoint', action: 'write', value: 21.5 });
    expect(await finalOutcome(r, 'heat-1')).toBe('executed');
    expect(Array.from(r.sim.unit(1).holding.subarray(20, 22))).toEqual([0x0000, 0x41ac]); // 21.5 CDAB, by hand
    const ev = r.sub.readings.find((x) => x.attrs?.id === 'heat-1' && x.value === 'executed')!;
    expect(ev.attrs).toMatchObject({ device: 'exit-barrier', point: 'heating.setpoint', action: 'write', source: 'mqtt', readBack: 21.5 });
    expect(typeof ev.seq).toBe('number');
  });

  it('never acts twice on one id, refuses what is not declared, out of range or expired, and never crashes on garbage', async () => {
    const r = await rig();
    await command(r, { id: 'p-1', point: 'sign.program', action: 'write', value: 2 });
    expect(await finalOutcome(r, 'p-1')).toBe('executed');
    r.sim.unit(1).setRegisters('holding', 10, [0]); // someone resets the sign by hand
    await command(r, { id: 'p-1', point: 'sign.program', action: 'write', value: 2 }); // redelivered
    await r.sub.waitFor(() => outcomes(r, 'p-1').includes('duplicate'), 20_000);
    expect(r.sim.unit(1).holding[10]).toBe(0);

    await command(r, { id: 'x-1', point: 'door.lock', action: 'write', value: true });
    await command(r, { id: 'x-2', point: 'heating.setpoint', action: 'write', value: 80 });
    await command(r, { id: 'x-3', point: 'sign.program', action: 'write', value: 1, expiresAt: Date.now() - 1000 });
    await r.centre.publishAsync(`${r.config.topicPrefix}/${r.config.gatewayId}/commands`, Buffer.from([0xff, 0x00, 0x7b]), { qos: 1 });
    await r.centre.publishAsync(`${r.config.topicPrefix}/${r.config.gatewayId}/commands`, '{"v":1,"id":"x-4","device":"exit-barrier"}', { qos: 1 });
    expect(await finalOutcome(r, 'x-1')).toBe('rejected');
    expect(await finalOutcome(r, 'x-2')).toBe('rejected');
    expect(await finalOutcome(r, 'x-3')).toBe('expired');
    expect(await finalOutcome(r, 'x-4')).toBe('rejected');
    const reason = (id: string) => r.sub.readings.find((x) => x.attrs?.id === id && x.value === 'rejected')?.attrs?.reason;
    expect(reason('x-1')).toMatch(/^not-declared: device "exit-barrier" has no writable point "door.lock"/);
    expect(reason('x-2')).toMatch(/^out-of-range: 80 is above max 30/);
    expect(reason('x-4')).toMatch(/^malformed/);
    expect(Array.from(r.sim.unit(1).holding.subarray(20, 22))).toEqual([0, 0]);
    expect(r.gw.child.exitCode).toBeNull();
  });

  it('with a key set, refuses unsigned commands for guarded points and acts on signed ones', async () => {
    const r = await rig({ signed: true });
    await command(r, { id: 'u-1', point: 'open', action: 'pulse' });
    expect(await finalOutcome(r, 'u-1')).toBe('rejected');
    expect(r.sub.readings.find((x) => x.attrs?.id === 'u-1' && x.value === 'rejected')?.attrs?.reason).toMatch(/^signature-missing/);
    await command(r, { id: 's-1', point: 'heating.setpoint', action: 'write', value: 18 }, true);
    expect(await finalOutcome(r, 's-1')).toBe('executed');
    // The sign's point does not require a signature.
    await command(r, { id: 'n-1', point: 'sign.program', action: 'write', value: 1 });
    expect(await finalOutcome(r, 'n-1')).toBe('executed');
  });

  it('remembers ids across a restart: a command redelivered after a restart is a duplicate; the journal is readable with edge-gateway commands', async () => {
    const r = await rig();
    await command(r, { id: 'r-1', point: 'sign.program', action: 'write', value: 1 });
    expect(await finalOutcome(r, 'r-1')).toBe('executed');
    await r.gw.stop();
    r.sim.unit(1).setRegisters('holding', 10, [0]);
    const gw2 = GatewayProcess.start(r.config.dir);
    cleanups.push(() => gw2.stop());
    await gw2.ready();
    await gw2.waitForLog((l) => l.msg === 'subscribed');
    await command(r, { id: 'r-1', point: 'sign.program', action: 'write', value: 1 });
    await r.sub.waitFor(() => outcomes(r, 'r-1').includes('duplicate'), 20_000);
    expect(r.sim.unit(1).holding[10]).toBe(0);
    const list = await runCli(['commands', '--config', r.config.dir, '--json']);
    expect(list.code).toBe(0);
    const entries = list.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; outcome: string });
    expect(entries.find((e) => e.id === 'r-1')?.outcome).toBe('executed');
  });

  it('a command held at the broker while the gateway was away arrives late and never actuates', async () => {
    const r = await rig();
    await r.gw.stop();
    // Retained: the broker keeps it and hands it to the gateway's next subscription, as a broker
    // holding commands through an outage would.
    const late = { v: 1, id: 'late-1', device: 'exit-barrier', point: 'sign.program', action: 'write', value: 2, expiresAt: Date.now() + 1500 };
    await r.centre.publishAsync(`${r.config.topicPrefix}/${r.config.gatewayId}/commands`, JSON.stringify(late), { qos: 1, retain: true });
    await new Promise((res) => setTimeout(res, 2000));
    const gw2 = GatewayProcess.start(r.config.dir);
    cleanups.push(() => gw2.stop());
    await gw2.ready();
    expect(await finalOutcome(r, 'late-1')).toBe('expired');
    expect(r.sim.unit(1).holding[10]).toBe(0);
  });

  it('a commands.rate raised above 20/s raises the inbound bound on the command topic: a burst of 60 is answered in full', async () => {
    const r = await rig({ rate: { perSecond: 500, burst: 500 } });
    // 60: under the guard's 64 queued, over its default burst of 40 (which dropped the rest unanswered).
    const ids = Array.from({ length: 60 }, (_, i) => `burst-${i}`);
    await Promise.all(ids.map((id, i) => command(r, { id, point: 'sign.program', action: 'write', value: i % 3 })));
    await r.sub.waitFor(() => ids.every((id) => outcomes(r, id).some((o) => o !== 'accepted')), 20_000).catch(() => undefined);
    expect(ids.filter((id) => !outcomes(r, id).some((o) => o !== 'accepted'))).toEqual([]);
    const health = JSON.parse((await runCli(['status', '--json', '--config', r.config.dir])).stdout) as { broker: { inbound: { dropped: { overLimit: number } } } };
    expect(health.broker.inbound.dropped.overLimit).toBe(0);
  });

  it('a technician writes through the actuate socket, and the control socket refuses to', async () => {
    const r = await rig();
    const viaControl = await runCli(['write', 'exit-barrier', 'sign.program', '2', '--socket', join(r.config.dir, 'control.sock')]);
    expect(viaControl.code).toBe(1);
    expect(viaControl.stderr).toMatch(/FORBIDDEN|only on the actuate socket/);
    const ok = await runCli(['write', 'exit-barrier', 'sign.program', '2', '--config', r.config.dir]);
    expect(ok.stdout).toMatch(/exit-barrier\/sign.program: executed/);
    expect(ok.code).toBe(0);
    expect(r.sim.unit(1).holding[10]).toBe(2);
    const bad = await runCli(['write', 'exit-barrier', 'sign.program', '7', '--config', r.config.dir]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/rejected.*not-allowed: 7/);
  });
});
