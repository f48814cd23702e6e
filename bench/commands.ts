import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { BrokerFixture } from '../test-rigs/broker/broker.js';
import { writeConfigDir } from '../test-rigs/harness/config-dir.js';
import { startRtuRig } from '../test-rigs/modbus-rtu-sim/rig.js';
import { startModbusTcpSimulator, type ModbusTcpSimulator } from '../test-rigs/modbus-sim/server.js';
import { parseBatch, type LayoutLog } from '../test-rigs/subscriber/payload.js';
import { percentile } from './percentile.js';
import { CpuWindow } from './proc-stats.js';
import { TracedDaemon } from './traced-daemon.js';

/**
 * The command channel against the REAL daemon (issue #23):
 *  (a) a coil write's latency, command published at the broker -> the write request read by the
 *      Modbus TCP simulator, while the daemon polls the intersection load (8 devices x 20
 *      registers every 100 ms, as bench/intersection.ts);
 *  (b) the same on Modbus RTU (a pty pair from socat, the RTU bus simulator at 38400 baud);
 *  (c) sustained commands/s to many coils (minInterval 0, commands.rate raised), the journal
 *      durable as shipped (synchronous=FULL), under the same intersection load;
 *  (d) the daemon's CPU on the intersection read path with the channel disabled and enabled
 *      (no commands sent), as a ratio.
 * Send and arrival times are both performance.now() of this process: the simulators run here.
 */
export interface LatencySample {
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Commands whose outcome was not `executed` (each one a problem). */
  notExecuted: number;
}

export interface CommandsBenchResult {
  tcp: LatencySample;
  rtu: (LatencySample & { baudRate: number }) | { skipped: string };
  sustained: {
    sent: number;
    executed: number;
    others: Record<string, number>;
    /** First publish -> the last executed outcome. */
    seconds: number;
    executedPerS: number;
    offeredPerS: number;
    points: number;
    /** health.broker.inbound.dropped.overLimit after the run: commands the inbound guard dropped unanswered. */
    inboundOverLimit: number | null;
  };
  readPathCpu: { seconds: number; disabledPercent: number; enabledPercent: number; ratio: number };
  daemonProblems: string[];
}

const DEVICES = 8;
const REGISTERS = 20;
const INTERVAL_MS = 100;
const SUSTAINED_POINTS = 50;
const RTU_BAUD = 38_400;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Outcomes (final ones) by command id, from the events stream. */
class Outcomes {
  readonly byId = new Map<string, string>();
  /** The outcome with the code its reason starts with, e.g. "rejected (busy)". */
  readonly detailById = new Map<string, string>();
  /** When the final outcome reached the bench (performance.now()). */
  readonly atById = new Map<string, number>();
  private readonly layouts: LayoutLog = new Map();
  constructor(private readonly gatewayId: string) {}
  accept(payload: Buffer): void {
    const parsed = parseBatch(payload, this.gatewayId, this.layouts);
    if (!parsed.ok) return;
    for (const r of parsed.value.readings) {
      if (r.device !== '_gateway' || r.point !== 'command' || r.value === 'accepted') continue;
      const id = r.attrs?.id;
      if (typeof id === 'string' && !this.byId.has(id)) {
        this.byId.set(id, String(r.value));
        this.atById.set(id, performance.now());
        const reason = r.attrs?.reason;
        this.detailById.set(id, typeof reason === 'string' ? `${String(r.value)} (${reason.split(':')[0]})` : String(r.value));
      }
    }
  }
}

interface Run {
  daemon: TracedDaemon;
  client: mqtt.MqttClient;
  outcomes: Outcomes;
  topic: string;
  /** The last health message's broker.inbound.dropped.overLimit. */
  overLimit(): number | null;
  stop(): Promise<void>;
}

async function startRun(opts: {
  broker: BrokerFixture;
  dir: string;
  devices: Record<string, Record<string, unknown>>;
  commands: Record<string, unknown>;
  warmupMs: number;
}): Promise<Run> {
  const gatewayId = 'bench-cmd';
  const config = writeConfigDir({
    dir: opts.dir,
    gatewayId,
    topicPrefix: 'bench',
    brokerUrls: [opts.broker.url],
    devices: opts.devices,
    gateway: { health: { interval: '2s' }, log: { level: 'info' }, commands: opts.commands },
  });
  const outcomes = new Outcomes(gatewayId);
  const client = await mqtt.connectAsync(opts.broker.url, { clientId: `bench-commands-${process.pid}-${Date.now()}`, clean: true, reconnectPeriod: 0 });
  let overLimit: number | null = null;
  client.on('message', (topic, payload) => {
    if (topic.endsWith('/events')) outcomes.accept(payload);
    else if (topic.endsWith('/health') && payload.length > 0) {
      overLimit = (JSON.parse(payload.toString('utf8')) as { broker?: { inbound?: { dropped?: { overLimit?: number } } } }).broker?.inbound?.dropped?.overLimit ?? null;
    }
  });
  await client.subscribeAsync([`${config.topicPrefix}/${gatewayId}/events`, `${config.topicPrefix}/${gatewayId}/health`], { qos: 1 });
  const daemon = TracedDaemon.start(config.dir, { traceFile: null });
  await daemon.ready(30_000);
  const topic = `${config.topicPrefix}/${gatewayId}/commands`;
  if (opts.commands.enabled === true) {
    // Subscribed once a probe (a point nobody declared) is answered.
    const deadline = performance.now() + 20_000;
    for (let i = 0; ; i++) {
      const id = `probe-${i}`;
      await client.publishAsync(topic, JSON.stringify({ v: 1, id, device: 'nobody', point: 'none', action: 'write', value: 0, expiresAt: Date.now() + 10_000 }), { qos: 1 });
      await sleep(300);
      if (outcomes.byId.has(id)) break;
      if (performance.now() > deadline) throw new Error('commands benchmark: the daemon never answered a probe command');
    }
  }
  await sleep(opts.warmupMs);
  return {
    daemon,
    client,
    outcomes,
    topic,
    overLimit: () => overLimit,
    async stop() {
      await daemon.stop();
      await client.endAsync(true).catch(() => undefined);
    },
  };
}

function intersectionDevices(sims: ModbusTcpSimulator[], writes: (d: number) => unknown[] | undefined): Record<string, Record<string, unknown>> {
  const files: Record<string, Record<string, unknown>> = {};
  sims.forEach((sim, d) => {
    const w = writes(d);
    files[`signal-${String(d + 1).padStart(2, '0')}`] = {
      type: 'modbus-tcp',
      host: sim.host,
      port: sim.port,
      unitId: 1,
      intervalMs: INTERVAL_MS,
      timeoutMs: 500,
      registers: Array.from({ length: REGISTERS }, (_, i) => ({ name: `det.${i}`, address: i, type: 'uint16', unit: i % 2 === 0 ? '{count}' : 'ms' })),
      ...(w && { writes: w }),
    };
  });
  return files;
}

/** Publish `n` coil writes one after another; each time, how long until the device read the write. */
async function writeLatencies(run: Run, device: string, n: number, arrivalAfter: (t0: number) => number | undefined, idPrefix: string): Promise<LatencySample> {
  const latencies: number[] = [];
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = `${idPrefix}-${i}-${Date.now()}`;
    ids.push(id);
    const payload = JSON.stringify({ v: 1, id, device, point: 'lamp', action: 'write', value: i % 2 === 0, expiresAt: Date.now() + 10_000 });
    const t0 = performance.now();
    run.client.publish(run.topic, payload, { qos: 1 });
    const deadline = t0 + 5_000;
    let at: number | undefined;
    while ((at = arrivalAfter(t0)) === undefined && performance.now() < deadline) await sleep(1);
    if (at !== undefined) latencies.push(at - t0);
    // The outcome (read back) before the next one: one command at a time, as a barrier is opened.
    const done = performance.now() + 5_000;
    while (!run.outcomes.byId.has(id) && performance.now() < done) await sleep(2);
    // Space the samples so they land at every phase of the 100 ms poll cycle.
    await sleep(20 + Math.random() * 60);
  }
  return {
    samples: latencies.length,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: percentile(latencies, 100),
    notExecuted: ids.filter((id) => run.outcomes.byId.get(id) !== 'executed').length,
  };
}

export async function measureCommands(opts: {
  broker: BrokerFixture;
  tmpRoot: string;
  quick: boolean;
  progress: (msg: string) => void;
}): Promise<CommandsBenchResult> {
  const warmupMs = opts.quick ? 3_000 : 10_000;
  const cpuMs = opts.quick ? 10_000 : 30_000;
  const latencySamples = opts.quick ? 150 : 500;
  const sustainedS = opts.quick ? 5 : 15;
  const offeredPerS = 300;
  const sims: ModbusTcpSimulator[] = [];
  const dirs: string[] = [];
  const newDir = (): string => {
    const d = mkdtempSync(join(opts.tmpRoot, 'edge-gw-bench-commands-'));
    dirs.push(d);
    return d;
  };
  const problems: string[] = [];
  try {
    for (let d = 0; d < DEVICES; d++) {
      const dynamics = Array.from({ length: REGISTERS }, (_, i) => ({ table: 'holding' as const, address: i, kind: 'counter' as const, start: d * 1000 + i * 10 }));
      sims.push(await startModbusTcpSimulator({ units: { 1: { dynamics } }, stepMs: INTERVAL_MS }));
    }
    const coilBank = await startModbusTcpSimulator({ units: [1], clock: 'manual' });
    sims.push(coilBank);
    const loadSims = sims.slice(0, DEVICES);

    // (d), first half: the read path with the channel off.
    opts.progress('commands: read path, channel disabled');
    const off = await startRun({ broker: opts.broker, dir: newDir(), devices: intersectionDevices(loadSims, () => undefined), commands: { enabled: false }, warmupMs });
    const cpuOff = new CpuWindow(off.daemon.pid);
    await sleep(cpuMs);
    const disabledPercent = cpuOff.percentOfCore();
    problems.push(...off.daemon.problems().map((l) => `channel off: ${l.msg}`));
    await off.stop();

    // The channel on: signal-01 has a writable coil, and a coil bank of 50 points beside the load.
    const lamp = [{ name: 'lamp', table: 'coil', address: 0, type: 'bool', minInterval: 0 }];
    const devices = intersectionDevices(loadSims, (d) => (d === 0 ? lamp : undefined));
    devices['coil-bank'] = {
      type: 'modbus-tcp',
      host: coilBank.host,
      port: coilBank.port,
      unitId: 1,
      intervalMs: 1000,
      timeoutMs: 500,
      registers: [{ name: 'c0', table: 'coil', address: 0, type: 'bool' }],
      writes: Array.from({ length: SUSTAINED_POINTS }, (_, i) => ({ name: `c${i}`, table: 'coil', address: i, type: 'bool', minInterval: 0 })),
    };
    opts.progress('commands: read path, channel enabled (no commands)');
    const on = await startRun({ broker: opts.broker, dir: newDir(), devices, commands: { enabled: true, rate: { perSecond: 1000, burst: 1000 }, maxExpiryAhead: '1m' }, warmupMs });
    try {
      const cpuOn = new CpuWindow(on.daemon.pid);
      await sleep(cpuMs);
      const enabledPercent = cpuOn.percentOfCore();

      // (a) Modbus TCP coil write latency under the intersection load.
      opts.progress(`commands: ${latencySamples} coil writes over Modbus TCP under the intersection load`);
      const log = loadSims[0]!.stats.requestLog;
      const tcp = await writeLatencies(on, 'signal-01', latencySamples, (t0) => log.findLast((r) => r.functionCode === 5 && r.atMs >= t0)?.atMs, 'tcp');

      // (c) Sustained: `offeredPerS` commands a second, round-robin over the coil bank's points.
      opts.progress(`commands: sustained ${offeredPerS}/s to ${SUSTAINED_POINTS} coils for ${sustainedS} s`);
      const ids: string[] = [];
      const t0 = performance.now();
      const total = offeredPerS * sustainedS;
      for (let i = 0; i < total; ) {
        const due = Math.floor(((performance.now() - t0) / 1000) * offeredPerS);
        for (; i < Math.min(due, total); i++) {
          const id = `s-${i}-${Date.now()}`;
          ids.push(id);
          on.client.publish(on.topic, JSON.stringify({ v: 1, id, device: 'coil-bank', point: `c${i % SUSTAINED_POINTS}`, action: 'write', value: i % 2 === 0, expiresAt: Date.now() + 30_000 }), { qos: 1 });
        }
        await sleep(5);
      }
      const deadline = performance.now() + 60_000;
      while (ids.some((id) => !on.outcomes.byId.has(id)) && performance.now() < deadline) await sleep(20);
      const others: Record<string, number> = {};
      let executed = 0;
      let lastExecutedAt = t0;
      for (const id of ids) {
        const o = on.outcomes.detailById.get(id) ?? 'no answer';
        if (o === 'executed') {
          executed++;
          lastExecutedAt = Math.max(lastExecutedAt, on.outcomes.atById.get(id)!);
        } else others[o] = (others[o] ?? 0) + 1;
      }
      const seconds = (lastExecutedAt - t0) / 1000;
      await sleep(2_500); // the next health message
      const inboundOverLimit = on.overLimit();
      problems.push(...on.daemon.problems().map((l) => `channel on: ${l.msg}`));
      await on.stop();

      const rtu = await measureRtu({ broker: opts.broker, dir: newDir(), samples: Math.round(latencySamples / 3), warmupMs: 2_000 }).catch((err: Error) => ({ skipped: `RTU not measured: ${err.message}` }));
      return {
        tcp,
        rtu,
        sustained: { sent: total, executed, others, seconds, executedPerS: executed / seconds, offeredPerS, points: SUSTAINED_POINTS, inboundOverLimit },
        readPathCpu: { seconds: cpuMs / 1000, disabledPercent, enabledPercent, ratio: enabledPercent / disabledPercent },
        daemonProblems: problems.slice(0, 20),
      };
    } finally {
      await on.stop().catch(() => undefined);
    }
  } finally {
    await Promise.all(sims.map((s) => s.stop()));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

/** (b) One RTU device polled every 100 ms; coil writes one at a time, publish -> request complete at the simulator. */
async function measureRtu(o: { broker: BrokerFixture; dir: string; samples: number; warmupMs: number }): Promise<LatencySample & { baudRate: number }> {
  const rig = await startRtuRig({ units: [1] });
  try {
    const devices = {
      'barrier-rtu': {
        type: 'modbus-rtu',
        port: { path: rig.path, baudRate: RTU_BAUD },
        unitId: 1,
        intervalMs: INTERVAL_MS,
        timeoutMs: 200,
        registers: Array.from({ length: 4 }, (_, i) => ({ name: `r${i}`, address: i, type: 'uint16' })),
        writes: [{ name: 'lamp', table: 'coil', address: 0, type: 'bool', minInterval: 0 }],
      },
    };
    const run = await startRun({ broker: o.broker, dir: o.dir, devices, commands: { enabled: true, maxExpiryAhead: '1m' }, warmupMs: o.warmupMs });
    try {
      const st = rig.sim.stats;
      const arrival = (t0: number): number | undefined => {
        for (let i = st.functionLog.length - 1; i >= 0 && st.arrivalLog[i]! >= t0; i--) if (st.functionLog[i] === 5) return st.arrivalLog[i];
        return undefined;
      };
      return { ...(await writeLatencies(run, 'barrier-rtu', o.samples, arrival, 'rtu')), baudRate: RTU_BAUD };
    } finally {
      await run.stop();
    }
  } finally {
    await rig.close();
  }
}
