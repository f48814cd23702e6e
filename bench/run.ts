import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { MOSQUITTO_BINARY, startBroker, type BrokerFixture } from '../test-rigs/broker/broker.js';
import { brokerPid } from './broker-pid.js';
import { measureBytes } from './bytes.js';
import { measureCommands } from './commands.js';
import { measureDrain } from './drain.js';
import { measureEndToEnd } from './end-to-end.js';
import { DEFAULT_COMMIT_INTERVAL_MS } from '../gateway/config/gateway-schema.js';
import { measureIngest } from './ingest.js';
import { measureIntersection, WARM_S } from './intersection.js';
import { createPiCgroup } from './pi-class.js';
import { measureLimits } from './limits.js';
import { machineFacts } from './machine.js';
import { pipelineSettings } from './pipeline.js';
import { measurePollPath, POLL_PATH_SHAPES } from './poll-path.js';
import { measureReconnect } from './reconnect.js';
import { shippedDefaults } from './workload.js';
import { formatReport } from './report.js';
import type { BenchResults } from './results.js';

/**
 * `npm run bench [-- --quick] [-- --json]`: measures this machine's physical limits, then the
 * gateway against them. Sections run one after another (never concurrently: they would measure
 * each other); a failing section is reported and the others still run.
 */
const USAGE = `usage: npm run bench -- [--quick] [--json] [--json-file PATH] [--only limits,e2e,drain,intersection,pi-storage,pi-class,pollpath,reconnect,ingest,commands,bytes]
  [--e2e-seconds N] [--bytes-seconds N] [--bytes-warmup-seconds N] [--intersection-seconds N] [--pollpath-seconds N] [--pollpath-profile-seconds N] [--pollpath-payload 1,2] [--intersection-payload 1|2] [--intersection-commit-interval MS] [--intersection-warmup-seconds N] [--pollpath-shapes 96x125/10,16x1000/10,32x125/100] [--drain-readings N] [--reconnect-outages N] [--reconnect-outage-seconds MIN-MAX] [--no-trace] [--daemon-cpu-prof DIR] [--daemon-node-args "FLAGS"] [--tmp DIR]`;

const SECTIONS = ['limits', 'e2e', 'drain', 'intersection', 'pi-storage', 'pi-class', 'pollpath', 'reconnect', 'ingest', 'commands', 'bytes'] as const;
/** A Raspberry Pi's SD card: an fsync 10-100x slower than a server disk; 20 ms is the low end. */
const PI_FSYNC_DELAY_MS = 20;
type Section = (typeof SECTIONS)[number];

class UsageError extends Error {
  readonly code = 'BENCH_USAGE';
}

function parse(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'json-file': { type: 'string' },
      only: { type: 'string' },
      'e2e-seconds': { type: 'string' },
      'intersection-seconds': { type: 'string' },
      'drain-readings': { type: 'string' },
      'ingest-readings': { type: 'string' },
      'ingest-payload': { type: 'string' },
      'ingest-connections': { type: 'string' },
      'pollpath-seconds': { type: 'string' },
      'pollpath-profile-seconds': { type: 'string' },
      'pollpath-payload': { type: 'string' },
      'intersection-payload': { type: 'string' },
      'intersection-commit-interval': { type: 'string' },
      'intersection-warmup-seconds': { type: 'string' },
      'pollpath-shapes': { type: 'string' },
      'reconnect-outages': { type: 'string' },
      'reconnect-outage-seconds': { type: 'string' },
      'bytes-seconds': { type: 'string' },
      'bytes-warmup-seconds': { type: 'string' },
      'no-trace': { type: 'boolean', default: false },
      'daemon-cpu-prof': { type: 'string' },
      'daemon-node-args': { type: 'string' },
      tmp: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  const num = (name: string, v: string | undefined, fallback: number): number => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number, got "${v}"`);
    return n;
  };
  const only = values.only === undefined ? [...SECTIONS] : values.only.split(',').map((s) => s.trim());
  for (const s of only) if (!(SECTIONS as readonly string[]).includes(s)) throw new UsageError(`--only: unknown section "${s}" (known: ${SECTIONS.join(', ')})`);
  const quick = values.quick;
  return {
    help: values.help,
    quick,
    json: values.json,
    jsonFile: values['json-file'],
    only: new Set(only as Section[]),
    limitMs: quick ? 500 : 1500,
    e2eWarmupMs: quick ? 1000 : 2000,
    e2eMs: num('e2e-seconds', values['e2e-seconds'], quick ? 5 : 15) * 1000,
    intersectionWarmupMs: num('intersection-warmup-seconds', values['intersection-warmup-seconds'], quick ? 2 : WARM_S) * 1000,
    // The Pi-class sections compare storage and a CPU quota with the plain run: short, as before.
    piWarmupMs: quick ? 2000 : 3000,
    intersectionMs: num('intersection-seconds', values['intersection-seconds'], quick ? 15 : 60) * 1000,
    pollPathWarmupMs: quick ? 2000 : 3000,
    pollPathMs: num('pollpath-seconds', values['pollpath-seconds'], quick ? 6 : 15) * 1000,
    pollPathPayloads: (values['pollpath-payload'] ?? '1,2').split(',').map((v) => {
      if (v.trim() !== '1' && v.trim() !== '2') throw new UsageError(`--pollpath-payload: payload versions are 1 and 2, got "${v}"`);
      return Number(v) as 1 | 2;
    }),
    // Unset: the shipped default (bench/intersection.ts reads it from the config schema).
    intersectionPayload: ((): 1 | 2 | undefined => {
      const v = values['intersection-payload'];
      if (v === undefined) return undefined;
      if (v !== '1' && v !== '2') throw new UsageError(`--intersection-payload: payload versions are 1 and 2, got "${v}"`);
      return Number(v) as 1 | 2;
    })(),
    intersectionCommitIntervalMs:
      values['intersection-commit-interval'] === undefined ? undefined : num('intersection-commit-interval', values['intersection-commit-interval'], DEFAULT_COMMIT_INTERVAL_MS),
    pollPathShapes: values['pollpath-shapes']?.split(',').map((v) => v.trim()) ?? null,
    pollPathProfileMs: num('pollpath-profile-seconds', values['pollpath-profile-seconds'], quick ? 4 : 6) * 1000,
    ingestReadings: Math.round(num('ingest-readings', values['ingest-readings'], quick ? 400_000 : 2_000_000)),
    ingestConnections: Math.round(num('ingest-connections', values['ingest-connections'], 4)),
    ingestPayloads: (values['ingest-payload'] ?? '1,2').split(',').map((v) => {
      if (v.trim() !== '1' && v.trim() !== '2') throw new UsageError(`--ingest-payload: payload versions are 1 and 2, got "${v}"`);
      return Number(v) as 1 | 2;
    }),
    drainReadings: Math.round(num('drain-readings', values['drain-readings'], 1_000_000)),
    // Issue #21: p99 over 20 outages of 5-60 s (about 13 minutes); --quick takes 6 of 5-20 s.
    reconnectOutages: Math.round(num('reconnect-outages', values['reconnect-outages'], quick ? 6 : 20)),
    reconnectOutageS: ((): [number, number] => {
      const v = values['reconnect-outage-seconds'] ?? (quick ? '5-20' : '5-60');
      const m = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(v);
      if (!m || Number(m[1]) > Number(m[2])) throw new UsageError(`--reconnect-outage-seconds: MIN-MAX in seconds, e.g. 5-60, got "${v}"`);
      return [Number(m[1]), Number(m[2])];
    })(),
    trace: !values['no-trace'],
    // Issue #25's bytes: quick runs the three judged rows and Node-RED in short windows (~1.5 min).
    bytesWarmupMs: num('bytes-warmup-seconds', values['bytes-warmup-seconds'], quick ? 2 : 10) * 1000,
    bytesMs: num('bytes-seconds', values['bytes-seconds'], quick ? 10 : 30) * 1000,
    daemonNodeArgs: [
      ...(values['daemon-cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['daemon-cpu-prof']}`] : []),
      ...(values['daemon-node-args']?.split(/\s+/).filter(Boolean) ?? []),
    ],
    tmp: values.tmp ?? os.tmpdir(),
  };
}

function progress(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

async function section<T>(results: BenchResults, name: string, run: () => Promise<T>): Promise<T | undefined> {
  progress(`${name}...`);
  const t0 = performance.now();
  try {
    const value = await run();
    progress(`${name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return value;
  } catch (err) {
    const e = err as Error & { code?: string };
    results.failures.push({ section: name, code: e.code ?? 'BENCH_SECTION_FAILED', message: e.message });
    progress(`${name} FAILED: ${e.stack ?? e.message}`);
    return undefined;
  }
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  let o: ReturnType<typeof parse>;
  try {
    o = parse(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (o.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const started = performance.now();
  const broker: BrokerFixture = await startBroker();
  const stopOnSignal = (): void => {
    void broker.dispose().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  const results: BenchResults = {
    date: new Date().toISOString(),
    command: `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`,
    quick: o.quick,
    machine: machineFacts(o.tmp, MOSQUITTO_BINARY),
    broker: { kind: broker.kind, url: broker.url },
    failures: [],
    totalSeconds: 0,
  };
  try {
    const s = pipelineSettings(broker.url);
    if (o.only.has('limits')) {
      results.limits = await section(results, 'physical limits', () =>
        measureLimits({
          brokerUrl: broker.url,
          brokerPid: brokerPid(broker),
          rowMaxReadings: s.rowMaxReadings,
          commitMaxReadings: s.commitMaxReadings,
          batchMaxReadings: s.batchMaxReadings,
          batchMaxBytes: s.batchMaxBytes,
          inflightWindow: s.inflightWindow,
          drainReadings: o.drainReadings,
          durationMs: o.limitMs,
          tmpRoot: o.tmp,
        }),
      );
    }
    if (o.only.has('e2e')) {
      results.endToEnd = await section(results, 'durable end-to-end', () =>
        measureEndToEnd({ brokerUrl: broker.url, brokerPid: brokerPid(broker), tmpRoot: o.tmp, warmupMs: o.e2eWarmupMs, durationMs: o.e2eMs }),
      );
    }
    if (o.only.has('drain')) {
      results.drain = await section(results, `backlog drain of ${o.drainReadings.toLocaleString('en-US')}`, () =>
        measureDrain({ broker, tmpRoot: o.tmp, readings: o.drainReadings, timeoutMs: 120_000 }),
      );
    }
    if (o.only.has('intersection')) {
      results.intersection = await section(results, 'intersection load', () =>
        measureIntersection({
          broker,
          tmpRoot: o.tmp,
          warmupMs: o.intersectionWarmupMs,
          durationMs: o.intersectionMs,
          trace: o.trace,
          nodeArgs: o.daemonNodeArgs,
          payloadVersion: o.intersectionPayload,
          commitIntervalMs: o.intersectionCommitIntervalMs,
          floor: true,
          idleFloor: true,
        }),
      );
    }
    if (o.only.has('pi-storage')) {
      results.piStorage = [];
      for (const durability of ['normal', 'strict'] as const) {
        const r = await section(results, `intersection load on Pi-class storage (+${PI_FSYNC_DELAY_MS} ms per fsync, ${durability})`, () =>
          measureIntersection({
            broker,
            tmpRoot: o.tmp,
            warmupMs: o.piWarmupMs,
            durationMs: o.intersectionMs,
            durability,
            fsyncDelayMs: PI_FSYNC_DELAY_MS,
            healthIntervalMs: 2000,
          }),
        );
        if (r) results.piStorage.push(r);
      }
    }
    if (o.only.has('pi-class')) {
      // The same intersection load with the daemon in a Pi-sized cgroup (bench/pi-class.ts).
      results.piClass = await section(results, 'Pi-class intersection load', async () => {
        const cg = createPiCgroup(`edge-gw-bench-${process.pid}`);
        try {
          const result = await measureIntersection({
            broker,
            tmpRoot: o.tmp,
            warmupMs: o.piWarmupMs,
            durationMs: o.intersectionMs,
            trace: false,
            nodeArgs: o.daemonNodeArgs,
            wrapper: cg.wrapper,
          });
          const share = cg.limits.cpuQuotaUs / cg.limits.cpuPeriodUs;
          return { limits: cg.limits, result, cpuPercentOfLimit: result.cpuPercent / share, throttled: cg.throttled(), memory: cg.memory() };
        } finally {
          cg.dispose();
        }
      });
    }
    if (o.only.has('pollpath')) {
      for (const shape of POLL_PATH_SHAPES.filter((s) => o.pollPathPayloads.includes(s.payloadVersion) && (o.pollPathShapes === null || o.pollPathShapes.includes(`${s.devices}x${s.registers}/${s.intervalMs}`)))) {
        const r = await section(results, `poll path: ${shape.devices} x ${shape.registers} every ${shape.intervalMs} ms, payload v${shape.payloadVersion}`, () =>
          measurePollPath({ broker, tmpRoot: o.tmp, shape, warmupMs: o.pollPathWarmupMs, durationMs: o.pollPathMs, profileMs: o.pollPathProfileMs, nodeArgs: o.daemonNodeArgs }),
        );
        if (r) (results.pollPath ??= []).push(r);
      }
    }
    if (o.only.has('reconnect')) {
      const [minOutageS, maxOutageS] = o.reconnectOutageS;
      results.reconnect = await section(results, `reconnect after ${o.reconnectOutages} broker outages of ${minOutageS}-${maxOutageS} s`, () =>
        measureReconnect({ outages: o.reconnectOutages, minOutageS, maxOutageS, progress }),
      );
    }
    if (o.only.has('ingest')) {
      for (const payloadVersion of o.ingestPayloads) {
        const r = await section(results, `reference ingest into PostgreSQL, payload v${payloadVersion}`, () =>
          measureIngest({ broker, readings: o.ingestReadings, payloadVersion, connections: o.ingestConnections, progress }),
        );
        if (r) (results.ingest ??= []).push(r);
      }
    }
    if (o.only.has('commands')) {
      results.commands = await section(results, 'command channel: write latency (TCP, RTU), sustained rate, read-path CPU', () =>
        measureCommands({ broker, tmpRoot: o.tmp, quick: o.quick, progress }),
      );
    }
    if (o.only.has('bytes')) {
      const f = shippedDefaults(broker.url).forward;
      results.bytes = await section(results, 'bytes per value: wire, disk, CPU, RSS; default config, v1 and Node-RED in one run', () =>
        measureBytes({ broker, tmpRoot: o.tmp, defaults: { payloadVersion: f.payloadVersion, compression: f.compression }, quick: o.quick, warmupMs: o.bytesWarmupMs, durationMs: o.bytesMs, nodeArgs: o.daemonNodeArgs, progress }),
      );
    }
  } finally {
    await broker.dispose();
  }
  results.totalSeconds = (performance.now() - started) / 1000;
  const json = `${JSON.stringify(results, null, 2)}\n`;
  if (o.jsonFile) writeFileSync(o.jsonFile, json);
  process.stdout.write(o.json ? json : `${formatReport(results)}\n`);
  return results.failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
