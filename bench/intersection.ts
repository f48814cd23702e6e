import { spawn } from 'node:child_process';
import { shippedDefaults } from './workload.js';
import zlib from 'node:zlib';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { DEFAULT_COMMIT_INTERVAL_MS } from '../gateway/config/gateway-schema.js';
import { encodeReading } from '../gateway/payload/encode.js';
import { DAEMON_NODE_FLAGS } from '../gateway/node-flags.js';
import type { BrokerFixture } from '../test-rigs/broker/broker.js';
import { pendingReadings } from '../gateway/outbox/inspect.js';
import { writeConfigDir } from '../test-rigs/harness/config-dir.js';
import { startModbusTcpSimulator, type ModbusTcpSimulator } from '../test-rigs/modbus-sim/server.js';
import { parseBatch, type LayoutLog } from '../test-rigs/subscriber/payload.js';
import { SeqTracker } from '../test-rigs/subscriber/seq-tracker.js';
import { brokerPid } from './broker-pid.js';
import { percentile } from './percentile.js';
import type { FloorConfig } from './io-floor.js';
import { measureIdleFloor, type IdleFloor } from './idle-floor.js';
import { encodedRecords } from './limits.js';
import { CpuWindow, io, memory } from './proc-stats.js';
import { straceAvailable, TracedDaemon } from './traced-daemon.js';
import { intersectionTrace, traceSource, type Trace } from '../test-rigs/traces/intersection.js';
import { addChecks, checkHeldSeries, type HeldSeriesCheck } from './trace-check.js';

/**
 * A traffic intersection's load against the REAL daemon process: 8 Modbus TCP controllers
 * (simulated, each its own TCP server), 20 registers each, polled every 100 ms = 1,600
 * readings/s, through the real config loader, driver, outbox and forwarder to the real broker
 * and a subscriber here that timestamps arrivals.
 */
export interface IntersectionResult {
  devices: number;
  registersPerDevice: number;
  intervalMs: number;
  seconds: number;
  /** Readings (polled within the window) that reached the subscriber, per second. */
  deliveredPerS: number;
  cpuPercent: number;
  rssMaxBytes: number;
  /** VmRSS sampled once a second through the window, in MB. */
  rssSeriesMb: number[];
  rssEndBytes: number;
  /** VmRSS at the end, split: private (RssAnon) and file-backed (RssFile, mostly the node binary). */
  rssAnonEndBytes: number;
  /** RssAnon sampled with VmRSS through the window: the private memory the issue's target is about
   * (the file-backed part is the node binary's pages, shared and reclaimable). */
  rssAnonMaxBytes: number;
  rssFileEndBytes: number;
  /** VmHWM: includes start-up, when config parsing and module loading peak. */
  hwmBytes: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  /** fsync + fdatasync per second (null without strace). */
  fsyncsPerS: number | null;
  bytesWrittenPerReading: number;
  /** Which counter `bytesWrittenPerReading` came from. */
  bytesSource: 'proc-io-write_bytes' | 'strace-pwrite64' | 'proc-io-wchar';
  /** What SQLite handed to pwrite64, per reading (null without strace). */
  sqlitePwriteBytesPerReading: number | null;
  procWriteBytesPerReading: number;
  /** Seqs never delivered after the daemon stopped cleanly (must be 0). */
  missing: number;
  duplicates: number;
  brokerCpuPercent: number | null;
  /** This process: the 8 simulators and the subscriber. */
  rigCpuPercent: number;
  /** Warnings/errors the daemon logged during the run (a quiet daemon is part of the result). */
  daemonProblems: string[];
  traced: boolean;
  durability: 'normal' | 'strict';
  /** `forward.payloadVersion` the daemon ran with. */
  payloadVersion: 1 | 2;
  /** `outbox.commitInterval` the daemon ran with (the floor commits as often). Absent in older results. */
  commitIntervalMs?: number;
  /** How long the daemon (and then the floor) ran before the window. Absent in older results. */
  warmupS?: number;
  /**
   * CPU of bench/io-floor.ts over a window as long, % of a core: the same sockets, commits and
   * publishes with none of the gateway's logic (null when not measured).
   */
  floorCpuPercent: number | null;
  /** The floor process's private memory (RssAnon) at the end of its window: node, better-sqlite3 and mqtt.js loaded and working. */
  floorRssAnonBytes: number | null;
  /** Node with the daemon's flags and libraries, loaded and idle (bench/idle-floor.ts), measured after the daemon in the same run; null or absent when not measured. */
  idleFloor?: IdleFloor | null;
  /** Added to every fsync/fdatasync (Pi-class storage run); 0 = this machine's disk as it is. */
  fsyncDelayMs: number;
  /** The daemon's backlog (health.outbox.pendingReadings) at each health message in the window. */
  backlogSeries: number[];
  /** Readings committed but not yet acknowledged, at the window's start and end (outbox). */
  backlogStart: number;
  backlogEnd: number;
  /** `counters` (every register changes every poll) or `trace` (test-rigs/traces/intersection.ts). Absent in older results. */
  workload?: 'counters' | 'trace';
  /** Whether the devices had a `report:` block (report by exception). */
  report?: boolean;
  /** Values the devices produced in the window (devices x registers x polls), the denominator below. */
  polledValues?: number;
  /** MQTT payload bytes of telemetry and events batches that arrived in the window, per polled value. */
  wireBytesPerValue?: number;
  /** Bytes the daemon wrote to disk in the window, per polled value. */
  diskBytesPerValue?: number;
  /** Readings delivered per polled value (1 without report by exception). */
  sentFraction?: number;
  /** The window's batches compressed one by one, per codec: bytes per polled value and CPU per batch. */
  compression?: Record<string, { wireBytesPerValue: number; usPerBatch: number }>;
  /** With `checkTrace`: every point of every controller rebuilt at the subscriber by sample and hold, against the trace over the window. */
  traceCheck?: HeldSeriesCheck;
}

/** How long a held value may lag the device in the trace check: 5 polls (a busy machine delays a poll; a dropped change stays wrong for seconds). */
const TRACE_CHECK_LAG_MS = 500;
/** A held value wrong for up to 1 s more and then right again came from a late poll: counted apart from lost changes. */
const TRACE_CHECK_LATE_MS = 1000;

export async function measureIntersection(opts: {
  broker: BrokerFixture;
  tmpRoot: string;
  warmupMs: number;
  durationMs: number;
  devices?: number;
  registers?: number;
  intervalMs?: number;
  trace?: boolean;
  /** Extra `node` flags for the daemon (profiling, heap limits). */
  nodeArgs?: string[];
  durability?: 'normal' | 'strict';
  /** Slow storage: added to every fsync/fdatasync through strace (needs strace). */
  fsyncDelayMs?: number;
  /** Health interval (the backlog series samples it); default the shipped 10 s. */
  healthIntervalMs?: number;
  /** Command prefix the daemon is started through (bench/pi-class.ts: a cgroup). */
  wrapper?: string[];
  /** `forward.payloadVersion` (default: the shipped default, read from the config schema). */
  payloadVersion?: 1 | 2;
  /** `outbox.commitInterval` in ms for the daemon and the floor's commit cadence (default: the shipped default). */
  commitIntervalMs?: number;
  /** Also measure the I/O floor (bench/io-floor.ts) after the daemon, against the same simulators. */
  floor?: boolean;
  /** Also measure the memory floor (bench/idle-floor.ts) after the daemon: its RSS target is relative to it. */
  idleFloor?: boolean;
  /** `counters` (default: every register changes every poll) or `trace`: the realistic controller mix, 20 registers. */
  workload?: 'counters' | 'trace';
  /** Give every device a `report:` block with the trace's deadbands (report by exception). */
  report?: boolean;
  /** `forward.batchMaxWait` in ms (default the shipped 0). */
  batchMaxWaitMs?: number;
  /** `forward.compression` (default: the shipped default, read from the config schema). */
  compression?: 'none' | 'zstd';
  /** With `workload: 'trace'`: check the series the subscriber rebuilds against the trace (bench/trace-check.ts). */
  checkTrace?: boolean;
}): Promise<IntersectionResult> {
  const workload = opts.workload ?? 'counters';
  const shipped = shippedDefaults('mqtt://127.0.0.1').forward;
  const payloadVersion = opts.payloadVersion ?? shipped.payloadVersion;
  const compression = opts.compression ?? shipped.compression;
  const devices = opts.devices ?? 8;
  const registers = opts.registers ?? 20;
  const intervalMs = opts.intervalMs ?? 100;
  const commitIntervalMs = opts.commitIntervalMs ?? DEFAULT_COMMIT_INTERVAL_MS;
  const fsyncDelayMs = opts.fsyncDelayMs ?? 0;
  const durability = opts.durability ?? 'normal';
  const traced = ((opts.trace ?? true) || fsyncDelayMs > 0) && straceAvailable();
  if (fsyncDelayMs > 0 && !traced) throw new Error('the slow-storage run injects its fsync delay with strace, which is not installed');
  const dir = mkdtempSync(join(opts.tmpRoot, 'edge-gw-bench-intersection-'));
  const sims: ModbusTcpSimulator[] = [];
  let sub: mqtt.MqttClient | null = null;
  let daemon: TracedDaemon | null = null;
  try {
    const deviceFiles: Record<string, Record<string, unknown>> = {};
    const traces = new Map<string, { trace: Trace; stepTimes: number[] }>();
    for (let d = 0; d < devices && workload === 'trace'; d++) {
      // One trace per controller (its own seed), long enough for any window.
      const trace = intersectionTrace(1000 + d, Math.ceil((opts.warmupMs + opts.durationMs + 120_000) / intervalMs));
      // When each step became visible (this process's clock, as the daemon's timestamps are): the trace check aligns by it.
      const stepTimes: number[] = [];
      const source = traceSource(trace);
      const logged = { apply: (step: number, input: Uint16Array) => ((stepTimes[step] = Date.now()), source.apply(step, input)) };
      traces.set(signalName(d), { trace, stepTimes });
      const sim = await startModbusTcpSimulator({ units: { 1: { source: logged } }, stepMs: intervalMs });
      sims.push(sim);
      const deadbands = Object.fromEntries(trace.points.filter((p) => p.deadband > 0).map((p) => [p.name, { deadband: p.deadband }]));
      deviceFiles[signalName(d)] = {
        ...signalDevice(sim, intervalMs),
        registers: trace.points.map((p) => ({ name: p.name, table: 'input', address: p.address, type: p.type, ...(p.scale !== undefined ? { scale: p.scale } : {}), ...(p.unit ? { unit: p.unit } : {}) })),
        ...(opts.report ? { report: { deadband: 0, heartbeat: '60s', points: deadbands } } : {}),
      };
    }
    for (let d = 0; d < devices && workload === 'counters'; d++) {
      const sim = await startModbusTcpSimulator({ units: { 1: { dynamics: counterDynamics(d, registers) } }, stepMs: intervalMs });
      sims.push(sim);
      deviceFiles[signalName(d)] = {
        ...signalDevice(sim, intervalMs),
        registers: Array.from({ length: registers }, (_, i) => ({ name: `det.${i}`, address: i, type: 'uint16', unit: i % 2 === 0 ? '{count}' : 'ms' })),
      };
    }
    const config = writeConfigDir({
      dir,
      gatewayId: 'bench-gw',
      topicPrefix: 'bench',
      brokerUrls: [opts.broker.url],
      devices: deviceFiles,
      // The shipped defaults, not the test harness's fast health interval.
      gateway: { health: { interval: `${opts.healthIntervalMs ?? 10_000}ms` }, log: { level: 'info' }, outbox: { durability, commitInterval: `${commitIntervalMs}ms` }, forward: { payloadVersion, compression, ...(opts.batchMaxWaitMs !== undefined ? { batchMaxWait: `${opts.batchMaxWaitMs}ms` } : {}) } },
    });

    const tracker = new SeqTracker();
    const layouts: LayoutLog = new Map();
    const latencies: number[] = [];
    let window = { from: Infinity, to: -Infinity };
    let inWindow = 0;
    const seenDevices = new Set<string>();
    const backlogSeries: number[] = [];
    let wireBytes = 0;
    const samples: Buffer[] = [];
    const received = new Map<string, Map<string, { seq: number; ts: number; value: number }[]>>();
    const checkTrace = (opts.checkTrace ?? false) && workload === 'trace';
    sub = await mqtt.connectAsync(opts.broker.url, { clientId: `bench-intersection-sub-${process.pid}`, clean: true, reconnectPeriod: 0 });
    sub.on('message', (topic, payload) => {
      const now = Date.now();
      if (topic.endsWith('/health')) {
        if (payload.length > 0 && now >= window.from && now <= window.to) {
          backlogSeries.push((JSON.parse(payload.toString('utf8')) as { outbox: { pendingReadings: number } }).outbox.pendingReadings);
        }
        return;
      }
      if (now >= window.from && now <= window.to) {
        wireBytes += payload.length;
        if (samples.length < 400) samples.push(Buffer.from(payload));
      }
      // The reference subscriber's parser: it expands v2 poll records into the readings they stand for.
      const parsed = parseBatch(payload, config.gatewayId, layouts);
      if (!parsed.ok) throw new Error(`intersection benchmark: a malformed batch: ${parsed.reason}`);
      const batch = parsed.value;
      tracker.accept(batch.readings.map((r) => r.seq));
      for (const r of batch.readings) {
        seenDevices.add(r.device);
        if (checkTrace) {
          const points = received.get(r.device) ?? received.set(r.device, new Map()).get(r.device)!;
          (points.get(r.point) ?? points.set(r.point, []).get(r.point)!).push({ seq: r.seq, ts: r.ts, value: Number(r.value) });
        }
        if (r.ts >= window.from && r.ts < window.to) {
          latencies.push(now - r.ts);
          inWindow++;
        }
      }
    });
    // Both streams: they share one seq space, so a gap check needs events (gateway events) too.
    const base = `${config.topicPrefix}/${config.gatewayId}`;
    await sub.subscribeAsync([`${base}/telemetry`, `${base}/events`, `${base}/health`], { qos: 1 });

    daemon = TracedDaemon.start(config.dir, { traceFile: traced ? join(dir, 'strace.txt') : null, nodeArgs: opts.nodeArgs, fsyncDelayMs, wrapper: opts.wrapper });
    await daemon.ready(30_000);
    const pid = daemon.pid;
    const deadline = performance.now() + 20_000;
    while (seenDevices.size < devices) {
      if (performance.now() > deadline) throw new Error(`intersection benchmark: only ${seenDevices.size} of ${devices} devices delivered readings within 20 s`);
      await sleep(100);
    }
    await sleep(opts.warmupMs);

    const bPid = brokerPid(opts.broker);
    const cpu = new CpuWindow(pid);
    const rigCpu = new CpuWindow(process.pid);
    const brokerCpu = bPid === null ? null : new CpuWindow(bPid);
    const io0 = io(pid);
    const backlogStart = pendingReadings(config.outboxPath);
    const from = Date.now();
    window = { from, to: from + opts.durationMs };
    let rssMax = 0;
    let rssAnonMax = 0;
    const rssSeriesMb: number[] = [];
    while (Date.now() < window.to) {
      const { rssBytes: rss, anonBytes } = memory(pid);
      rssSeriesMb.push(Math.round((rss / 1024 / 1024) * 10) / 10);
      rssMax = Math.max(rssMax, rss);
      rssAnonMax = Math.max(rssAnonMax, anonBytes);
      await sleep(Math.min(1000, Math.max(1, window.to - Date.now())));
    }
    const to = Date.now();
    const cpuPercent = cpu.percentOfCore();
    const rigCpuPercent = rigCpu.percentOfCore();
    const brokerCpuPercent = brokerCpu?.percentOfCore() ?? null;
    const io1 = io(pid);
    const mem = memory(pid);
    const backlogEnd = pendingReadings(config.outboxPath);
    rssMax = Math.max(rssMax, mem.rssBytes);
    rssAnonMax = Math.max(rssAnonMax, mem.anonBytes);
    // Readings polled just before the window closed are still on their way.
    await sleep(1000);
    const trace = daemon.countTrace(from, to);
    const seconds = (to - from) / 1000;
    const readings = Math.max(1, inWindow);

    await daemon.stop();
    // The daemon flushes and forwards what it still had on a clean stop; give it time to arrive.
    await sleep(500);
    const summary = tracker.summary();
    const traceCheck = checkTrace ? checkTraces(traces, received, from, to, intervalMs) : undefined;
    const floor = opts.floor
      ? await measureFloor({
          devices: sims.map((sim) => ({ host: sim.host, port: sim.port })),
          registers,
          intervalMs,
          // The floor commits as often as the daemon's group-commit window lets it.
          commitIntervalMs,
          brokerUrl: opts.broker.url,
          dbPath: join(dir, 'floor.db'),
          ...floorRow(devices * registers * (commitIntervalMs / intervalMs), registers, payloadVersion),
          nodeArgs: opts.nodeArgs ?? [],
          warmupMs: opts.warmupMs,
          durationMs: opts.durationMs,
        })
      : null;
    const idleFloor = opts.idleFloor ? await measureIdleFloor({ nodeArgs: opts.nodeArgs }) : null;
    const procWrite = (io1.writeBytes - io0.writeBytes) / readings;
    const [bytesWrittenPerReading, bytesSource] =
      io1.writeBytes - io0.writeBytes > 0
        ? [procWrite, 'proc-io-write_bytes' as const]
        : trace
          ? [trace.pwriteBytes / readings, 'strace-pwrite64' as const]
          : [(io1.wchar - io0.wchar) / readings, 'proc-io-wchar' as const];
    const polledValues = devices * (workload === 'trace' ? 20 : registers) * ((to - from) / intervalMs);
    const wireBytesPerValue = wireBytes / polledValues;
    return {
      workload,
      report: opts.report ?? false,
      polledValues,
      wireBytesPerValue,
      diskBytesPerValue: (io1.writeBytes - io0.writeBytes) / polledValues,
      sentFraction: inWindow / polledValues,
      // Batches already compressed on the wire say nothing about what compressing them would do.
      compression: compression === 'none' ? compressionOf(samples, wireBytesPerValue) : {},
      ...(traceCheck ? { traceCheck } : {}),
      devices,
      registersPerDevice: registers,
      intervalMs,
      seconds,
      deliveredPerS: inWindow / seconds,
      cpuPercent,
      rssMaxBytes: rssMax,
      rssSeriesMb,
      rssEndBytes: mem.rssBytes,
      rssAnonEndBytes: mem.anonBytes,
      rssAnonMaxBytes: rssAnonMax,
      rssFileEndBytes: mem.fileBytes,
      hwmBytes: mem.hwmBytes,
      latencyP50Ms: percentile(latencies, 50),
      latencyP99Ms: percentile(latencies, 99),
      latencyMaxMs: percentile(latencies, 100),
      fsyncsPerS: trace ? trace.fsyncs / seconds : null,
      bytesWrittenPerReading,
      bytesSource,
      sqlitePwriteBytesPerReading: trace ? trace.pwriteBytes / readings : null,
      procWriteBytesPerReading: procWrite,
      missing: summary.missingCount,
      duplicates: summary.duplicates,
      brokerCpuPercent,
      rigCpuPercent,
      daemonProblems: daemon.problems().map((l) => `${l.msg}${l.err ? `: ${JSON.stringify(l.err).slice(0, 200)}` : ''}`),
      traced,
      durability,
      payloadVersion,
      commitIntervalMs,
      warmupS: opts.warmupMs / 1000,
      floorCpuPercent: floor?.cpuPercent ?? null,
      floorRssAnonBytes: floor?.rssAnonBytes ?? null,
      idleFloor,
      fsyncDelayMs,
      backlogSeries,
      backlogStart,
      backlogEnd,
    };
  } finally {
    await daemon?.stop().catch(() => undefined);
    await sub?.endAsync(true).catch(() => undefined);
    await Promise.all(sims.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

const HERE = dirname(fileURLToPath(import.meta.url));

/** Every point of every controller, one reading per seq (a batch may arrive twice), against its trace over [from, to). */
function checkTraces(
  traces: ReadonlyMap<string, { trace: Trace; stepTimes: number[] }>,
  received: ReadonlyMap<string, ReadonlyMap<string, { seq: number; ts: number; value: number }[]>>,
  from: number,
  to: number,
  intervalMs: number,
): HeldSeriesCheck {
  const checks: HeldSeriesCheck[] = [];
  for (const [device, { trace, stepTimes }] of traces) {
    trace.points.forEach((p, i) => {
      const sent = [...new Map((received.get(device)?.get(p.name) ?? []).map((r) => [r.seq, r])).values()];
      const c = checkHeldSeries({ stepTimes, truth: (s) => trace.value(s, i), deadband: p.deadband, sent, from, to, lagMs: TRACE_CHECK_LAG_MS, slackMs: intervalMs / 2, lateMs: TRACE_CHECK_LATE_MS });
      checks.push({ ...c, examples: c.examples.map((e) => `${device} ${p.name}: ${e}`) });
    });
  }
  return addChecks(checks);
}

/** The every-value-changing load: every register a counter, so every poll returns new values, as loop detectors and phase timers do. */
export function counterDynamics(device: number, registers: number): { table: 'holding'; address: number; kind: 'counter'; start: number }[] {
  return Array.from({ length: registers }, (_, i) => ({ table: 'holding' as const, address: i, kind: 'counter' as const, start: device * 1000 + i * 10 }));
}

/**
 * What per-batch compression would make of the batches the window carried (each compressed on
 * its own, as a publish would be): bytes per polled value scaled from the sample's ratio, and
 * the gateway CPU it would cost per batch, measured here on the same machine.
 */
function compressionOf(samples: readonly Buffer[], wireBytesPerValue: number): Record<string, { wireBytesPerValue: number; usPerBatch: number }> {
  const raw = samples.reduce((n, b) => n + b.length, 0);
  if (raw === 0) return {};
  const codecs: Record<string, (b: Buffer) => Buffer> = {
    'deflate-6': (b) => zlib.deflateRawSync(b),
    'brotli-4': (b) => zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } }),
    ...(typeof zlib.zstdCompressSync === 'function' ? { 'zstd-3': (b: Buffer) => zlib.zstdCompressSync(b) } : {}),
  };
  const out: Record<string, { wireBytesPerValue: number; usPerBatch: number }> = {};
  for (const [name, compress] of Object.entries(codecs)) {
    for (const b of samples.slice(0, 20)) compress(b); // warm
    const t0 = performance.now();
    let bytes = 0;
    for (const b of samples) bytes += compress(b).length;
    const us = ((performance.now() - t0) * 1000) / samples.length;
    out[name] = { wireBytesPerValue: (wireBytesPerValue * bytes) / raw, usPerBatch: us };
  }
  return out;
}

/**
 * Warm-up before the intersection window in a full run. At this load the per-commit code (the
 * outbox transaction, mqtt.js publish and PUBACK) runs ~20 times a second, and V8 optimizes a
 * function with TurboFan only after ~3,000 calls: measured after a few seconds, the daemon and the
 * floor both run cold code for minutes (2026-11-26: 4.1-4.8 % and 3.5-3.7 % of a core cold, 2.8 %
 * and 2.3 % after 200 s). A gateway runs for weeks, so the full run measures it warm.
 */
export const WARM_S = 200;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** `readings` readings as the outbox would store them for this load (device/point names alike). */
function floorRow(readings: number, registers: number, payloadVersion: 1 | 2): { rowBody: string; rowReadings: number } {
  const rowReadings = Math.max(1, Math.round(readings));
  if (payloadVersion === 2) return { rowBody: encodedRecords(rowReadings), rowReadings };
  const ts = Date.now();
  const parts: string[] = [];
  for (let i = 0; i < rowReadings; i++) {
    const d = Math.floor(i / registers);
    const r = i % registers;
    parts.push(encodeReading({ device: `signal-${String(d + 1).padStart(2, '0')}`, point: `det.${r}`, unit: r % 2 === 0 ? '{count}' : 'ms', value: d * 1000 + r * 10, quality: 'good', ts }, 1_000_000 + i, false));
  }
  return { rowBody: parts.join(','), rowReadings };
}

async function measureFloor(o: FloorConfig & { nodeArgs: string[]; warmupMs: number; durationMs: number }): Promise<{ cpuPercent: number; rssAnonBytes: number }> {
  const { nodeArgs, warmupMs, durationMs, ...cfg } = o;
  const child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, ...nodeArgs, join(HERE, 'io-floor.js'), JSON.stringify(cfg)], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', () => resolve());
      child.once('exit', (code) => reject(new Error(`io-floor exited (${code}) before it was ready`)));
    });
    await sleep(warmupMs);
    const cpu = new CpuWindow(child.pid!);
    await sleep(durationMs);
    return { cpuPercent: cpu.percentOfCore(), rssAnonBytes: memory(child.pid!).anonBytes };
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit').catch(() => undefined);
  }
}

/** One signal controller's device file, the part both workloads share (the register map is theirs). */
function signalDevice(sim: { host: string; port: number }, intervalMs: number): Record<string, unknown> {
  return { type: 'modbus-tcp', host: sim.host, port: sim.port, unitId: 1, intervalMs, timeoutMs: 500 };
}

function signalName(d: number): string {
  return `signal-${String(d + 1).padStart(2, '0')}`;
}
