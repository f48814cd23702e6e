import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import mqtt from 'mqtt';
import { anyBatchPayloadSchema } from '../gateway/forwarder/payload-schema.js';
import type { BrokerFixture } from '../test-rigs/broker/broker.js';
import { startPostgres } from '../test-rigs/postgres/postgres.js';
import { brokerPid } from './broker-pid.js';
import { cpuMs } from './proc-stats.js';

/**
 * The reference ingest (central/) draining recorded load into PostgreSQL. Batches shaped like
 * 50 intersection gateways' (8 devices x 20 registers every 100 ms each) are built once, then
 * published into the broker while the ingest is away, queued in its persistent session; the
 * ingest is then started and drains them. So the generator costs nothing during the measured
 * window, and the figure is what one worker sustains: readings/s into PostgreSQL, and CPU per
 * reading of the ingest process and of the PostgreSQL processes, each read from /proc.
 */
export const INTERSECTION_GATEWAY_READINGS_PER_S = 8 * 20 * 10;
export const INGEST_TARGET_GATEWAYS = 50;
export const INGEST_TARGET_READINGS_PER_S = INTERSECTION_GATEWAY_READINGS_PER_S * INGEST_TARGET_GATEWAYS;

export interface IngestBenchResult {
  payloadVersion: 1 | 2;
  readings: number;
  batches: number;
  bytes: number;
  seconds: number;
  readingsPerS: number;
  /** Core-µs per stored reading. */
  ingestCoreUsPerReading: number;
  postgresCoreUsPerReading: number;
  brokerCoreUsPerReading: number | null;
  connections: number;
  targetReadingsPerS: number;
}

const DEVICES = 8;
const REGISTERS = 20;
const BATCH_POLLS = 40; // 40 polls of 20 registers = 800 readings per batch (half a second of one gateway)

/** One gateway's batches, numbered from seq 1, as the forwarder would send them. */
function buildBatches(gateway: string, version: 1 | 2, readings: number, startTs: number): Buffer[] {
  const points = Array.from({ length: REGISTERS }, (_, i) => `r${i}`);
  const units = points.map((_, i) => (i % 4 === 0 ? 'Cel' : null));
  const layoutIds = Array.from({ length: DEVICES }, (_, d) => (0x5d1f0c000000 + d).toString(16));
  const out: Buffer[] = [];
  let seq = 1;
  let poll = 0;
  while (seq <= readings) {
    const items: string[] = [];
    const first = seq;
    const used = new Set<number>();
    for (let p = 0; p < BATCH_POLLS && seq <= readings; p++, poll++) {
      const d = poll % DEVICES;
      const ts = startTs + Math.floor(poll / DEVICES) * 100;
      const values = points.map((_, i) => (i * 7 + poll) % 1000);
      if (version === 2) {
        items.push(`{"seq":${seq},"layout":"${layoutIds[d]}","ts":${ts},"values":[${values.join(',')}]}`);
        used.add(d);
        seq += REGISTERS;
      } else {
        for (let i = 0; i < REGISTERS; i++, seq++) {
          const unit = units[i] ? `,"unit":"${units[i]}"` : '';
          items.push(`{"seq":${seq},"device":"dev-${d}","point":"${points[i]}"${unit},"value":${values[i]},"quality":"good","ts":${ts}}`);
        }
      }
    }
    const layouts = version === 2
      ? `"layouts":{${[...used].map((d) => `"${layoutIds[d]}":${JSON.stringify({ device: `dev-${d}`, points, units })}`).join(',')}},`
      : '';
    out.push(Buffer.from(`{"v":${version},"gateway":"${gateway}","outbox":"00000000-0000-4000-8000-${gateway.slice(-12).padStart(12, '0')}","batch":"b-${first}",` +
      `"firstSeq":${first},"lastSeq":${seq - 1},"count":${seq - first},"sentAt":${Date.now()},${layouts}"readings":[${items.join(',')}]}`));
  }
  return out;
}

/** postmaster + its backends, summed (backends of this run live for the whole run). */
function postgresCpuMs(postmaster: number): number {
  let total = cpuMs(postmaster);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === postmaster) total += cpuMs(Number(entry));
    } catch {
      /* exited meanwhile */
    }
  }
  return total;
}

interface IngestChild {
  child: ChildProcess;
  /** Resolves with the first stats line whose `readings` reaches `n`. */
  reached(n: number, timeoutMs: number): Promise<{ atMs: number }>;
  connected(): Promise<void>;
  /** When the worker logged that it started (its connections are then being made). */
  startedAtMs(): number;
  stop(): Promise<void>;
}

function startIngestChild(brokerUrl: string, databaseUrl: string, connections: number): IngestChild {
  const cli = path.join(import.meta.dirname, '../central/cli.js');
  const child = spawn(process.execPath, [cli, 'ingest', '--broker', brokerUrl, '--database', databaseUrl, '--prefix', 'bench',
    '--client-id', 'bench-ingest', '--connections', String(connections), '--stats-interval', '0.2', '--log-level', 'info'],
  { env: { ...process.env, NO_PRETTY_LOGS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Array<{ msg?: string; readings?: number; time?: number }> = [];
  let buf = '';
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        lines.push(JSON.parse(line));
      } catch {
        /* not ours */
      }
    }
  });
  const waitFor = async (pred: (l: (typeof lines)[number]) => boolean, timeoutMs: number, what: string) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = lines.find(pred);
      if (hit) return hit;
      if (child.exitCode !== null) throw new Error(`ingest exited ${child.exitCode}: ${stderr.slice(-1000)}`);
      if (Date.now() > deadline) throw new Error(`ingest: timed out waiting for ${what}; last: ${JSON.stringify(lines.slice(-2))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return {
    child,
    async reached(n, timeoutMs) {
      const l = await waitFor((x) => x.msg === 'ingest stats' && (x.readings ?? 0) >= n, timeoutMs, `${n} readings`);
      return { atMs: l.time! };
    },
    async connected() {
      await waitFor((x) => x.msg === 'ingest started', 30_000, 'start');
      await waitFor(() => lines.filter((x) => x.msg === 'connected to broker').length >= connections, 30_000, 'connections');
    },
    startedAtMs() {
      return lines.find((x) => x.msg === 'ingest started')?.time ?? NaN;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

export async function measureIngest(opts: { broker: BrokerFixture; readings: number; payloadVersion: 1 | 2; connections?: number; progress?: (m: string) => void }): Promise<IngestBenchResult> {
  const connections = opts.connections ?? 4;
  const pgServer = await startPostgres();
  try {
    const databaseUrl = pgServer.createDatabase(`bench_v${opts.payloadVersion}`);
    // Create the sessions and subscriptions (and the schema), then leave: what follows is queued.
    let ingest = startIngestChild(opts.broker.url, databaseUrl, connections);
    await ingest.connected();
    await ingest.stop();

    const perGateway = Math.ceil(opts.readings / INGEST_TARGET_GATEWAYS);
    const all: Array<{ topic: string; payload: Buffer }> = [];
    for (let g = 0; g < INGEST_TARGET_GATEWAYS; g++) {
      const id = `gw-${String(g).padStart(3, '0')}`;
      for (const payload of buildBatches(id, opts.payloadVersion, perGateway, 1764061200000)) all.push({ topic: `bench/${id}/telemetry`, payload });
    }
    // The generator must produce the contract: check the first batch of the recording against it.
    anyBatchPayloadSchema.parse(JSON.parse(all[0]!.payload.toString()));
    const total = perGateway * INGEST_TARGET_GATEWAYS;
    const bytes = all.reduce((s, b) => s + b.payload.length, 0);
    opts.progress?.(`publishing ${all.length} batches (${total.toLocaleString('en-US')} readings, ${(bytes / 1e6).toFixed(0)} MB) into the broker queue`);
    const pub = await mqtt.connectAsync(opts.broker.url, { clientId: 'bench-ingest-load' });
    // Interleave gateways, as the broker would receive them.
    const order = all.map((_, i) => i).sort((a, b) => (a % 1000) - (b % 1000) || a - b);
    const window = 64;
    for (let i = 0; i < order.length; i += window) {
      await Promise.all(order.slice(i, i + window).map((k) => pub.publishAsync(all[k]!.topic, all[k]!.payload, { qos: 1 })));
    }
    await pub.endAsync();

    const brokerP = brokerPid(opts.broker);
    const pg0 = postgresCpuMs(pgServer.pid);
    const br0 = brokerP === null ? null : cpuMs(brokerP);
    const t0 = Date.now();
    ingest = startIngestChild(opts.broker.url, databaseUrl, connections);
    const ingestPid = ingest.child.pid!;
    let ingestCpu = 0;
    // Sample the ingest's CPU until it reaches the total: after it exits /proc is gone.
    const sampler = setInterval(() => {
      try {
        ingestCpu = cpuMs(ingestPid);
      } catch {
        /* exited */
      }
    }, 100);
    const done = await ingest.reached(total, 600_000);
    ingestCpu = cpuMs(ingestPid);
    clearInterval(sampler);
    const pg1 = postgresCpuMs(pgServer.pid);
    const br1 = brokerP === null ? null : cpuMs(brokerP);
    await ingest.stop();
    // From the worker's start (process start-up is not ingest work); t0 if the line was missed.
    const started = ingest.startedAtMs();
    const seconds = (done.atMs - (Number.isFinite(started) ? started : t0)) / 1000;
    return {
      payloadVersion: opts.payloadVersion,
      readings: total,
      batches: all.length,
      bytes,
      seconds,
      readingsPerS: total / seconds,
      ingestCoreUsPerReading: (ingestCpu * 1000) / total,
      postgresCoreUsPerReading: ((pg1 - pg0) * 1000) / total,
      brokerCoreUsPerReading: br0 === null || br1 === null ? null : ((br1 - br0) * 1000) / total,
      connections,
      targetReadingsPerS: INGEST_TARGET_READINGS_PER_S,
    };
  } finally {
    await pgServer.dispose();
  }
}
