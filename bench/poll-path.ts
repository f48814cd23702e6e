import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { inflateBatch } from '../gateway/payload/compression.js';
import type { BrokerFixture } from '../test-rigs/broker/broker.js';
import { writeConfigDir } from '../test-rigs/harness/config-dir.js';
import { RangeSet } from '../test-rigs/subscriber/range-set.js';
import { brokerPid } from './broker-pid.js';
import { summariseProfileDir, type ProfileSummary } from './cpu-profile.js';
import { CpuWindow, mainThreadSched, memory } from './proc-stats.js';
import { TracedDaemon } from './traced-daemon.js';

/**
 * The whole poll path, like for like with Node-RED + node-red-contrib-modbus: the REAL daemon
 * process (production node flags) polls simulated Modbus TCP devices at the fastest interval the
 * config allows (10 ms), durably (every value committed to SQLite before it is published), to
 * mosquitto, and a subscriber here checks that every committed seq arrives.
 *
 * Cost is CPU time, not wall time: core-µs per value = the daemon's utime+stime over the window
 * divided by the values delivered in it, so it holds on a busy shared machine. A second, shorter
 * run of the same shape under `--cpu-prof` says where that time went.
 */
export interface PollPathShape {
  name: string;
  devices: number;
  registers: number;
  intervalMs: number;
  /** Offered more than the daemon can take (full load): judged on cost, rate and p99; otherwise on p99 only. */
  saturating: boolean;
  /** `forward.payloadVersion`: 1, an object per value; 2, a record per poll (opt-in). */
  payloadVersion: 1 | 2;
}

/**
 * The saturating shapes offer more than the 1M values/s target (the 10 ms floor of `intervalMs`
 * caps what one device offers), so whether the target is met is a measurement, not a property of
 * the rig. Until 2026-11-26 they were 32 x 125 and 8 x 1000 (400k and 800k offered).
 */
export const POLL_PATH_SHAPES: readonly PollPathShape[] = [1, 2].flatMap((payloadVersion) => [
  { name: 'many devices', devices: 96, registers: 125, intervalMs: 10, saturating: true, payloadVersion: payloadVersion as 1 | 2 },
  { name: 'few devices, many registers', devices: 16, registers: 1000, intervalMs: 10, saturating: true, payloadVersion: payloadVersion as 1 | 2 },
  // Below saturation: what latency is when the daemon keeps up, to tell the pipeline's own waits
  // (commit window, forwarder) from queueing behind a saturated event loop.
  { name: 'below saturation', devices: 32, registers: 125, intervalMs: 100, saturating: false, payloadVersion: payloadVersion as 1 | 2 },
]);

/** `32x125 v2`: how reports and target lines name a shape. */
export function shapeTag(p: PollPathShape): string {
  return `${p.devices}x${p.registers}${p.saturating ? '' : `/${p.intervalMs}ms`} v${p.payloadVersion}`;
}

export interface PollPathResult extends PollPathShape {
  seconds: number;
  offeredPerS: number;
  /** Values the daemon committed to the outbox per second (its seq counter over the window). */
  committedPerS: number;
  /** Values that reached the subscriber per second. */
  deliveredPerS: number;
  /** Daemon CPU (utime+stime) per delivered value. */
  coreUsPerValue: number;
  cpuPercent: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  rssMaxBytes: number;
  rssAnonEndBytes: number;
  /** Committed seqs neither delivered nor still stored in the outbox after a clean stop (must be 0). */
  missing: number;
  /** Still in the outbox at the stop (a backlog when offered > delivered): stored, not lost. */
  storedAtStop: number;
  brokerCpuPercent: number | null;
  simCpuPercent: number;
  /** This process (the subscriber). */
  subscriberCpuPercent: number;
  /**
   * The daemon's main thread over the window, % of wall time: on a CPU, runnable but waiting for
   * a CPU (a busy shared machine), and the rest (blocked: idle, or in a synchronous syscall).
   */
  mainThread: { onCpuPercent: number; runQueuePercent: number; blockedPercent: number } | null;
  /** The simulators' thread runnable but waiting for a CPU, % of wall time: a late answer is the rig's, not the daemon's. */
  simRunQueuePercent: number | null;
  profile: ProfileSummary | null;
  daemonProblems: string[];
}

const HERE = dirname(fileURLToPath(import.meta.url));

/** Latency histogram in 1 ms buckets (an array of samples at 1M values/s would itself cost). */
class Histogram {
  private readonly buckets = new Uint32Array(120_001);
  count = 0;
  max = 0;
  add(ms: number): void {
    const b = ms < 0 ? 0 : ms > 120_000 ? 120_000 : ms;
    this.buckets[b]!++;
    this.count++;
    if (ms > this.max) this.max = ms;
  }
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i]!;
      if (seen >= rank) return i;
    }
    return this.max;
  }
}

const SEQ = Buffer.from('{"seq":');
const TS = Buffer.from('"ts":');
const LAYOUT = Buffer.from(',"layout":');
const VALUES = Buffer.from('"values":[');

function digitsAt(buf: Buffer, at: number): [value: number, end: number] {
  let v = 0;
  let i = at;
  for (; i < buf.length; i++) {
    const c = buf[i]!;
    if (c < 48 || c > 57) break;
    v = v * 10 + (c - 48);
  }
  return [v, i];
}

async function startSims(shape: PollPathShape): Promise<{ child: ChildProcess; host: string; ports: number[] }> {
  const child = spawn(process.execPath, [join(HERE, 'poll-sims.js'), String(shape.devices), String(shape.registers), '100'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`poll-path simulators exited (${code}) before listening`)));
  });
  const { host, ports } = JSON.parse(line) as { host: string; ports: number[] };
  return { child, host, ports };
}

function nextSeqOf(outboxPath: string): number {
  const db = new Database(outboxPath, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT count FROM telemetry WHERE first_seq = 0').get() as { count: number } | undefined)?.count ?? 1;
  } finally {
    db.close();
  }
}

function storedRanges(outboxPath: string): Array<[number, number]> {
  const db = new Database(outboxPath, { readonly: true, fileMustExist: true });
  try {
    const out: Array<[number, number]> = [];
    for (const t of ['events', 'telemetry']) {
      for (const r of db.prepare(`SELECT first_seq, count FROM ${t} WHERE first_seq > 0`).all() as Array<{ first_seq: number; count: number }>) {
        out.push([r.first_seq, r.first_seq + r.count - 1]);
      }
    }
    return out;
  } finally {
    db.close();
  }
}

export async function measurePollPath(opts: {
  broker: BrokerFixture;
  tmpRoot: string;
  shape: PollPathShape;
  warmupMs: number;
  durationMs: number;
  /** A second run this long under --cpu-prof (0 = none). */
  profileMs: number;
  nodeArgs?: string[];
}): Promise<PollPathResult> {
  const run = await runOnce({ ...opts, profileDir: null });
  let profile: ProfileSummary | null = null;
  if (opts.profileMs > 0) {
    const dir = mkdtempSync(join(opts.tmpRoot, 'edge-gw-bench-pollprof-'));
    try {
      await runOnce({ ...opts, durationMs: opts.profileMs, profileDir: dir });
      profile = summariseProfileDir(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { ...run, profile };
}

async function runOnce(opts: {
  broker: BrokerFixture;
  tmpRoot: string;
  shape: PollPathShape;
  warmupMs: number;
  durationMs: number;
  profileDir: string | null;
  nodeArgs?: string[];
}): Promise<Omit<PollPathResult, 'profile'>> {
  const { shape } = opts;
  const dir = mkdtempSync(join(opts.tmpRoot, 'edge-gw-bench-pollpath-'));
  let sims: Awaited<ReturnType<typeof startSims>> | null = null;
  let sub: mqtt.MqttClient | null = null;
  let daemon: TracedDaemon | null = null;
  try {
    sims = await startSims(shape);
    const devices: Record<string, Record<string, unknown>> = {};
    sims.ports.forEach((port, d) => {
      devices[`dev-${String(d + 1).padStart(2, '0')}`] = {
        type: 'modbus-tcp',
        host: sims!.host,
        port,
        unitId: 1,
        intervalMs: shape.intervalMs,
        timeoutMs: 1000,
        registers: Array.from({ length: shape.registers }, (_, i) => ({ name: `r.${i}`, address: i, type: 'uint16', ...(i % 2 === 0 ? { unit: 'count' } : {}) })),
      };
    });
    const config = writeConfigDir({
      dir,
      gatewayId: 'bench-gw',
      topicPrefix: 'bench',
      brokerUrls: [opts.broker.url],
      devices,
      gateway: { health: { interval: '10s' }, log: { level: 'info' }, forward: { payloadVersion: shape.payloadVersion } },
    });

    const received = new RangeSet();
    const latency = new Histogram();
    let window = { from: Infinity, to: -Infinity };
    let arrivedInWindow = 0;
    let measuring = false;
    sub = await mqtt.connectAsync(opts.broker.url, { clientId: `bench-pollpath-sub-${process.pid}`, clean: true, reconnectPeriod: 0 });
    // Scans the payload for seq and ts instead of JSON.parse: at a million values a second the
    // subscriber would otherwise need more CPU than the daemon it measures.
    // Batches arrive as zstd frames by default (forward.compression): inflated first, as any consumer does.
    sub.on('message', (_topic, wire) => {
      const now = Date.now();
      const payload = inflateBatch(wire);
      let at = payload.indexOf(SEQ);
      let runFrom = -1;
      let prev = -1;
      let n = 0;
      while (at >= 0) {
        const [seq, end] = digitsAt(payload, at + SEQ.length);
        const t = payload.indexOf(TS, end);
        const [ts, tEnd] = digitsAt(payload, t + TS.length);
        // A v2 poll record stands for as many readings as it has values (seq, seq+1, ...).
        let values = 1;
        let next = tEnd;
        if (payload.compare(LAYOUT, 0, LAYOUT.length, end, end + LAYOUT.length) === 0) {
          const open = payload.indexOf(VALUES, tEnd) + VALUES.length;
          const close = payload.indexOf(0x5d, open);
          for (let i = open; i < close; i++) if (payload[i] === 0x2c) values++;
          next = close;
        }
        if (ts >= window.from && ts < window.to) for (let k = 0; k < values; k++) latency.add(now - ts);
        if (seq !== prev + 1) {
          if (runFrom >= 0) received.add(runFrom, prev);
          runFrom = seq;
        }
        prev = seq + values - 1;
        n += values;
        at = payload.indexOf(SEQ, next);
      }
      if (runFrom >= 0) received.add(runFrom, prev);
      if (measuring) arrivedInWindow += n;
    });
    const base = `${config.topicPrefix}/${config.gatewayId}`;
    await sub.subscribeAsync([`${base}/telemetry`, `${base}/events`], { qos: 1 });

    const nodeArgs = [...(opts.nodeArgs ?? []), ...(opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`] : [])];
    daemon = TracedDaemon.start(config.dir, { traceFile: null, nodeArgs });
    await daemon.ready(30_000);
    const pid = daemon.pid;
    await sleep(opts.warmupMs);

    const bPid = brokerPid(opts.broker);
    const cpu = new CpuWindow(pid);
    const simCpu = new CpuWindow(sims.child.pid!);
    const subCpu = new CpuWindow(process.pid);
    const brokerCpu = bPid === null ? null : new CpuWindow(bPid);
    const sched0 = mainThreadSched(pid);
    const simSched0 = mainThreadSched(sims.child.pid!);
    const seq0 = nextSeqOf(config.outboxPath);
    const cpu0 = performance.now();
    const from = Date.now();
    window = { from, to: from + opts.durationMs };
    measuring = true;
    let rssMax = 0;
    while (Date.now() < window.to) {
      rssMax = Math.max(rssMax, memory(pid).rssBytes);
      await sleep(Math.min(500, Math.max(1, window.to - Date.now())));
    }
    measuring = false;
    const seconds = (performance.now() - cpu0) / 1000;
    const cpuPercent = cpu.percentOfCore();
    const simCpuPercent = simCpu.percentOfCore();
    const subscriberCpuPercent = subCpu.percentOfCore();
    const brokerCpuPercent = brokerCpu?.percentOfCore() ?? null;
    const sched1 = mainThreadSched(pid);
    const simSched1 = mainThreadSched(sims.child.pid!);
    const seq1 = nextSeqOf(config.outboxPath);
    const mem = memory(pid);
    rssMax = Math.max(rssMax, mem.rssBytes);
    // Let values polled at the end of the window arrive, for the latency figure.
    await sleep(1000);
    await daemon.stop(20_000);
    await sleep(500);
    const finalNext = nextSeqOf(config.outboxPath);
    const stored = new RangeSet();
    for (const [a, b] of storedRanges(config.outboxPath)) stored.add(a, b);
    let missing = 0;
    for (const [a, b] of received.missingIn(1, finalNext - 1)) {
      for (const [c, d] of stored.missingIn(a, b)) missing += d - c + 1;
    }
    const delivered = arrivedInWindow / seconds;
    const wallNs = seconds * 1e9;
    const mainThread =
      sched0 && sched1
        ? {
            onCpuPercent: ((sched1.onCpuNs - sched0.onCpuNs) / wallNs) * 100,
            runQueuePercent: ((sched1.waitNs - sched0.waitNs) / wallNs) * 100,
            blockedPercent: Math.max(0, 100 - ((sched1.onCpuNs - sched0.onCpuNs + sched1.waitNs - sched0.waitNs) / wallNs) * 100),
          }
        : null;
    return {
      ...shape,
      seconds,
      offeredPerS: (shape.devices * shape.registers * 1000) / shape.intervalMs,
      committedPerS: (seq1 - seq0) / seconds,
      deliveredPerS: delivered,
      coreUsPerValue: arrivedInWindow === 0 ? NaN : (cpuPercent / 100) * seconds * 1e6 / arrivedInWindow,
      cpuPercent,
      latencyP50Ms: latency.percentile(50),
      latencyP99Ms: latency.percentile(99),
      latencyMaxMs: latency.max,
      rssMaxBytes: rssMax,
      rssAnonEndBytes: mem.anonBytes,
      missing,
      storedAtStop: stored.size,
      brokerCpuPercent,
      simCpuPercent,
      subscriberCpuPercent,
      mainThread,
      simRunQueuePercent: simSched0 && simSched1 ? ((simSched1.waitNs - simSched0.waitNs) / wallNs) * 100 : null,
      daemonProblems: daemon.problems().map((l) => `${l.msg}${l.err ? `: ${JSON.stringify(l.err).slice(0, 200)}` : ''}`),
    };
  } finally {
    await daemon?.stop().catch(() => undefined);
    await sub?.endAsync(true).catch(() => undefined);
    sims?.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
