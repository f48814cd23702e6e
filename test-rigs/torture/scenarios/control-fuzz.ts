import { readFileSync } from 'node:fs';
import net from 'node:net';
import fc from 'fast-check';
import { request } from '../../../gateway/control/client.js';
import { startBroker } from '../../broker/broker.js';
import { writeConfigDir } from '../../harness/config-dir.js';
import { GatewayProcess } from '../../harness/gateway-process.js';

/**
 * A hostile local user on the control socket of the real daemon, driven by fast-check: arbitrary
 * bytes, arbitrary JSON, partial lines left hanging, lines far over the limit, and bursts of
 * connections over the cap. After every generated case the daemon must be alive and answer
 * `status`; its RSS is sampled throughout and must stay bounded.
 */
export interface ControlFuzzFigures {
  profile: 'short' | 'long';
  cases: number;
  connections: number;
  bytesSent: number;
  refusedOverCap: number;
  baselineRssMiB: number;
  peakRssMiB: number;
  finalRssMiB: number;
  /** RSS after each quarter of the cases: growth that keeps going would be a leak. */
  rssByQuarterMiB: number[];
  durationS: number;
}

const PROFILES = {
  short: { runs: 25, maxBurst: 80, maxHugeKiB: 256 },
  long: { runs: 400, maxBurst: 400, maxHugeKiB: 4096 },
} as const;

type Action =
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'json'; text: string }
  | { kind: 'partial'; bytes: Uint8Array }
  | { kind: 'huge'; kib: number; newline: boolean }
  | { kind: 'burst'; count: number; fragment: Uint8Array };

function actions(p: (typeof PROFILES)[keyof typeof PROFILES]): fc.Arbitrary<Action[]> {
  const action: fc.Arbitrary<Action> = fc.oneof(
    fc.uint8Array({ maxLength: 3000 }).map((bytes) => ({ kind: 'bytes' as const, bytes })),
    fc.json({ maxDepth: 4 }).map((text) => ({ kind: 'json' as const, text })),
    fc.uint8Array({ minLength: 1, maxLength: 200 }).map((bytes) => ({ kind: 'partial' as const, bytes: bytes.map((b) => (b === 10 ? 32 : b)) })),
    fc.record({ kib: fc.integer({ min: 4, max: p.maxHugeKiB }), newline: fc.boolean() }).map((r) => ({ kind: 'huge' as const, ...r })),
    fc.record({ count: fc.integer({ min: 2, max: p.maxBurst }), fragment: fc.uint8Array({ maxLength: 64 }) }).map((r) => ({ kind: 'burst' as const, ...r })),
  );
  return fc.array(action, { minLength: 1, maxLength: 6 });
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Open a connection, write, and return it (open); never throws. */
function open(path: string, bytes: Uint8Array | string, onData: (text: string) => void): Promise<net.Socket> {
  return new Promise((resolve) => {
    const s = net.connect(path);
    s.on('error', () => resolve(s));
    s.setEncoding('utf8');
    s.on('data', onData);
    s.once('connect', () => {
      if (bytes.length > 0) s.write(bytes);
      resolve(s);
    });
  });
}

/**
 * `status` once the daemon has seen our hang-ups. Until it has, a burst over the cap is still
 * counted and `status` is (rightly) refused with TOO_MANY_CONNECTIONS; any other error fails.
 */
async function statusOnceFloodEnds(socket: string, withinMs = 10_000): Promise<{ gateway?: string }> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      return await request<{ gateway?: string }>(socket, { cmd: 'status' });
    } catch (err) {
      if (!/control connections \(the limit\)/.test((err as Error).message) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export async function controlFuzzScenario(profile: 'short' | 'long', seed?: number): Promise<ControlFuzzFigures> {
  const p = PROFILES[profile];
  const t0 = Date.now();
  const broker = await startBroker();
  const config = writeConfigDir({ brokerUrls: [broker.url], gateway: { control: { maxConnections: 32, requestTimeout: '1s' } } });
  const socket = `${config.dir}/control.sock`;
  const gw = GatewayProcess.start(config.dir);
  const figures: ControlFuzzFigures = { profile, cases: 0, connections: 0, bytesSent: 0, refusedOverCap: 0, baselineRssMiB: 0, peakRssMiB: 0, finalRssMiB: 0, rssByQuarterMiB: [], durationS: 0 };
  let peak = 0;
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, rssBytes(gw.pid));
    } catch {
      // The process is gone; the property below reports that.
    }
  }, 100);
  try {
    await gw.ready();
    await request(socket, { cmd: 'status' });
    const baseline = rssBytes(gw.pid);
    figures.baselineRssMiB = baseline / 2 ** 20;

    await fc.assert(
      fc.asyncProperty(actions(p), async (acts) => {
        figures.cases++;
        const sockets: net.Socket[] = [];
        const onData = (text: string) => {
          if (text.includes('TOO_MANY_CONNECTIONS')) figures.refusedOverCap++;
        };
        for (const a of acts) {
          switch (a.kind) {
            case 'bytes':
              sockets.push(await open(socket, a.bytes, onData));
              figures.bytesSent += a.bytes.length;
              break;
            case 'json':
              sockets.push(await open(socket, `${a.text}\n`, onData));
              figures.bytesSent += a.text.length + 1;
              break;
            case 'partial':
              sockets.push(await open(socket, a.bytes, onData));
              figures.bytesSent += a.bytes.length;
              break;
            case 'huge': {
              const body = Buffer.alloc(a.kib * 1024, 0x7b);
              sockets.push(await open(socket, a.newline ? Buffer.concat([body, Buffer.from('\n')]) : body, onData));
              figures.bytesSent += body.length;
              break;
            }
            case 'burst':
              for (const s of await Promise.all(Array.from({ length: a.count }, () => open(socket, a.fragment, onData)))) sockets.push(s);
              figures.bytesSent += a.count * a.fragment.length;
              break;
          }
        }
        figures.connections += sockets.length;
        if (figures.cases % Math.max(1, Math.floor(p.runs / 4)) === 0) figures.rssByQuarterMiB.push(Math.round(rssBytes(gw.pid) / 2 ** 20));
        // Let the daemon read what was sent, then hang up; idle ones would be cut at requestTimeout.
        await new Promise((r) => setTimeout(r, 20));
        for (const s of sockets) s.destroy();
        await new Promise((r) => setTimeout(r, 30));
        if (gw.child.exitCode !== null || gw.child.signalCode !== null) throw new Error(`daemon exited (${gw.child.exitCode ?? gw.child.signalCode}): ${gw.stderr.slice(-5).join('\n')}`);
        const health = await statusOnceFloodEnds(socket);
        if (health.gateway !== config.gatewayId) throw new Error(`status answered ${JSON.stringify(health).slice(0, 200)}`);
      }),
      { numRuns: p.runs, seed, endOnFailure: true },
    );
    await new Promise((r) => setTimeout(r, 1500));
    figures.finalRssMiB = rssBytes(gw.pid) / 2 ** 20;
    figures.peakRssMiB = peak / 2 ** 20;
    if (gw.logs.some((l) => l.level >= 60)) throw new Error(`fatal log line: ${JSON.stringify(gw.logs.find((l) => l.level >= 60))}`);
  } finally {
    clearInterval(sampler);
    await gw.stop();
    await broker.stop();
  }
  figures.durationS = (Date.now() - t0) / 1000;
  for (const k of ['baselineRssMiB', 'peakRssMiB', 'finalRssMiB'] as const) figures[k] = Math.round(figures[k] * 10) / 10;
  process.stderr.write(`[control-fuzz] ${JSON.stringify(figures)}\n`);
  return figures;
}
