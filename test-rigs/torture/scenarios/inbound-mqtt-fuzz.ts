import { rmSync } from 'node:fs';
import fc from 'fast-check';
import type { Packet } from 'mqtt-packet';
import { request } from '../../../gateway/control/client.js';
import type { HealthReport } from '../../../gateway/health.js';
import { flood, packetBytes, startHostileBroker, type Attack } from '../../broker/hostile-broker.js';
import { writeConfigDir } from '../../harness/config-dir.js';
import { GatewayProcess } from '../../harness/gateway-process.js';
import { PeakRss, rssBytes } from '../../harness/rss.js';
import { startModbusTcpSimulator } from '../../modbus-sim/server.js';

/**
 * A hostile broker against the real daemon (issue #21 finding 2). A fake broker on a raw TCP
 * server accepts the gateway like a broker would (CONNACK, PUBACKs), then floods it: first the
 * finding itself (unsolicited 60 KB QoS 2 PUBLISHes, never a PUBREL), then fast-check cases of
 * every packet a broker can send (PUBLISH QoS 0/1/2 on topics never subscribed, PUBREL /
 * PUBACK / PUBREC / PUBCOMP for unknown ids, unexpected SUBACK and UNSUBACK, PINGRESP floods,
 * garbage, oversize and malformed packets, packets before CONNACK). Throughout: the daemon stays
 * alive, its RSS (/proc/<pid>/status of the spawned pid) stays bounded, a Modbus device keeps
 * polling; after: with the broker behaving, telemetry is forwarded again, and status counts what
 * was dropped.
 */
export interface InboundFuzzFigures {
  profile: 'short' | 'long';
  cases: number;
  /** RSS once running, the peak during the QoS 2 flood, the peak overall, at the end. */
  baselineRssMiB: number;
  qos2FloodPeakRssMiB: number;
  peakRssMiB: number;
  finalRssMiB: number;
  /** Unsolicited QoS 2 PUBLISHes the daemon answered (PUBREC) during the QoS 2 flood. */
  qos2FloodPubrecs: number;
  /** Device polls per second before and during the floods (the device polls every 100 ms). */
  pollsPerSBefore: number;
  pollsPerSDuringFloods: number;
  inbound: HealthReport['broker']['inbound'];
  telemetryPublishesAfter: number;
  durationS: number;
}

const PROFILES = {
  short: { qos2FloodMs: 8_000, runs: 12, caseMs: 700 },
  long: { qos2FloodMs: 60_000, runs: 150, caseMs: 2_000 },
} as const;

type Kind = 'publish0' | 'publish1' | 'publish2' | 'pubrel' | 'puback' | 'pubrec' | 'pubcomp' | 'suback' | 'unsuback' | 'pingresp' | 'garbage' | 'oversize' | 'malformedLength' | 'beforeConnack';
interface Case {
  kind: Kind;
  bytes: number;
  garbage: Uint8Array;
}

const KINDS: Kind[] = ['publish0', 'publish1', 'publish2', 'pubrel', 'puback', 'pubrec', 'pubcomp', 'suback', 'unsuback', 'pingresp', 'garbage', 'oversize', 'malformedLength', 'beforeConnack'];

const id = (i: number) => (i % 65535) + 1;
const publish = (qos: 0 | 1 | 2, bytes: number) => (i: number) =>
  packetBytes({ cmd: 'publish', topic: `hostile/${i % 1000}`, payload: Buffer.alloc(bytes, 0x61), qos, messageId: qos > 0 ? id(i) : undefined, dup: false, retain: false });

/** What one generated case sends, again and again until `until`. */
function attackFor(c: Case, until: number): { attack: Attack; beforeConnack?: boolean } {
  const packet = (p: (i: number) => Packet) => flood((i) => packetBytes(p(i)), until);
  switch (c.kind) {
    case 'publish0':
      return { attack: flood(publish(0, c.bytes), until) };
    case 'publish1':
      return { attack: flood(publish(1, c.bytes), until) };
    case 'publish2':
      return { attack: flood(publish(2, c.bytes), until) };
    case 'pubrel':
    case 'puback':
    case 'pubrec':
    case 'pubcomp':
      return { attack: packet((i) => ({ cmd: c.kind as 'pubrel', messageId: id(i) })) };
    case 'suback':
      return { attack: packet((i) => ({ cmd: 'suback', messageId: id(i), granted: [1] })) };
    case 'unsuback':
      return { attack: packet((i) => ({ cmd: 'unsuback', messageId: id(i), granted: [] })) };
    case 'pingresp':
      return { attack: packet(() => ({ cmd: 'pingresp' })) };
    case 'garbage':
      return { attack: flood(() => c.garbage, until) };
    case 'oversize':
      // The header of a PUBLISH of c.bytes * 64 (up to ~4 MiB), then its body in 64 KiB pieces.
      return {
        attack: async (conn) => {
          const total = c.bytes * 64;
          const len: number[] = [];
          for (let n = total; ; ) {
            const b = n % 128;
            n = Math.floor(n / 128);
            len.push(n > 0 ? b | 0x80 : b);
            if (n === 0) break;
          }
          await conn.write(Uint8Array.from([0x30, ...len]));
          for (let sent = 0; sent < total && Date.now() < until && !conn.closed; sent += 65_536) await conn.write(Buffer.alloc(65_536, 0x62));
        },
      };
    case 'malformedLength':
      return { attack: flood(() => Uint8Array.from([0xd0, 0xff, 0xff, 0xff, 0xff, 0x7f]), until) };
    case 'beforeConnack':
      return { attack: flood(publish(1, c.bytes), until), beforeConnack: true };
  }
}

export async function inboundMqttFuzzScenario(profile: 'short' | 'long', seed?: number): Promise<InboundFuzzFigures> {
  const p = PROFILES[profile];
  const t0 = Date.now();
  const broker = await startHostileBroker();
  const sim = await startModbusTcpSimulator({ units: [1], stepMs: 50 });
  const config = writeConfigDir({
    brokerUrls: [broker.url],
    devices: { meter: { type: 'modbus-tcp', host: sim.host, port: sim.port, unitId: 1, intervalMs: 100, registers: [{ name: 'r0', address: 0, type: 'uint16' }] } },
  });
  const socket = `${config.dir}/control.sock`;
  const telemetry = `${config.topicPrefix}/${config.gatewayId}/telemetry`;
  const gw = GatewayProcess.start(config.dir);
  const rss = new PeakRss(gw.pid);
  const alive = () => {
    if (gw.child.exitCode !== null || gw.child.signalCode !== null) throw new Error(`daemon exited (${gw.child.exitCode ?? gw.child.signalCode}): ${gw.stderr.slice(-5).join('\n')}`);
  };
  const status = () => request<HealthReport>(socket, { cmd: 'status' }, 5000);
  const polls = async () => (await status()).devices.meter?.counters.polls ?? 0;
  const until = async (cond: () => boolean | Promise<boolean>, ms: number, what: string) => {
    const deadline = Date.now() + ms;
    while (!(await cond())) {
      alive();
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const sent = () => broker.publishedTo[telemetry] ?? 0;
  const figures = { profile, cases: 0 } as InboundFuzzFigures;
  try {
    await gw.ready();
    await until(() => sent() > 3, 15_000, 'telemetry before the floods');
    // Let the daemon settle (caches, first health) before taking its baseline.
    const polls0 = await polls();
    await new Promise((r) => setTimeout(r, 2_000));
    figures.pollsPerSBefore = ((await polls()) - polls0) / 2;
    figures.baselineRssMiB = rss.reset() / 2 ** 20;

    // The finding: unsolicited 60 KB QoS 2 PUBLISHes with fresh ids, never released.
    const floodStart = Date.now();
    const pollsAtFlood = await polls();
    const pubrecs0 = broker.received.pubrec ?? 0;
    broker.setAttack(flood(publish(2, 60_000), floodStart + p.qos2FloodMs));
    broker.dropConnections(); // the attack starts on the next connection
    await new Promise((r) => setTimeout(r, p.qos2FloodMs + 500));
    alive();
    figures.qos2FloodPeakRssMiB = rss.peak / 2 ** 20;
    figures.qos2FloodPubrecs = (broker.received.pubrec ?? 0) - pubrecs0;

    const c: fc.Arbitrary<Case> = fc.record({
      kind: fc.constantFrom(...KINDS),
      bytes: fc.integer({ min: 0, max: 65_536 }),
      garbage: fc.uint8Array({ minLength: 1, maxLength: 4096 }),
    });
    await fc.assert(
      fc.asyncProperty(c, async (kase) => {
        figures.cases++;
        const { attack, beforeConnack } = attackFor(kase, Date.now() + p.caseMs);
        broker.setAttack(attack, { beforeConnack });
        broker.dropConnections();
        await new Promise((r) => setTimeout(r, p.caseMs));
        alive();
      }),
      { numRuns: p.runs, seed, endOnFailure: true },
    );
    figures.pollsPerSDuringFloods = ((await polls()) - pollsAtFlood) / ((Date.now() - floodStart) / 1000);

    // A good broker again: forwarding resumes and status tells what was refused.
    broker.setAttack(null);
    broker.dropConnections();
    const before = sent();
    await until(() => sent() > before + 3, 20_000, 'telemetry after the floods');
    figures.telemetryPublishesAfter = sent() - before;
    figures.inbound = (await status()).broker.inbound;
    figures.peakRssMiB = rss.peak / 2 ** 20;
    figures.finalRssMiB = rssBytes(gw.pid) / 2 ** 20;
    if (gw.logs.some((l) => l.level >= 60)) throw new Error(`fatal log line: ${JSON.stringify(gw.logs.find((l) => l.level >= 60))}`);
  } finally {
    rss.stop();
    await gw.stop();
    await broker.close();
    await sim.stop();
    rmSync(config.dir, { recursive: true, force: true });
  }
  figures.durationS = (Date.now() - t0) / 1000;
  for (const k of ['baselineRssMiB', 'qos2FloodPeakRssMiB', 'peakRssMiB', 'finalRssMiB', 'pollsPerSBefore', 'pollsPerSDuringFloods'] as const) figures[k] = Math.round(figures[k] * 10) / 10;
  process.stderr.write(`[inbound-mqtt-fuzz] ${JSON.stringify(figures)}\n`);
  return figures;
}
