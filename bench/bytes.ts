import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { startBroker } from '../test-rigs/broker/broker.js';
import { measureIntersection, type IntersectionResult } from './intersection.js';

/**
 * Issue #25's bytes side by side, one run: bytes per value on the wire and on disk at the
 * intersection load (8 controllers x 20 registers every 100 ms, real daemon and mosquitto), for
 * every register changing on every poll and for the realistic traces (test-rigs/traces/), with and
 * without report by exception, payload v1 and v2; and what per-batch compression would make of
 * each window's batches. "Per value" is per value the devices produced (polled), so a value
 * report by exception holds back costs nothing and the figures compare across rows.
 *
 *   npm run build && node dist/bench/bytes.js [--seconds 30] [--warmup-seconds 10]
 */
const { values } = parseArgs({ options: { only: { type: 'string' },  seconds: { type: 'string', default: '30' }, 'warmup-seconds': { type: 'string', default: '10' }, json: { type: 'boolean', default: false } } });
const durationMs = Number(values.seconds) * 1000;
const warmupMs = Number(values['warmup-seconds']) * 1000;
if (!(durationMs > 0) || !(warmupMs >= 0)) throw new Error('--seconds and --warmup-seconds take numbers of seconds');

const runs: Array<{ name: string; workload: 'counters' | 'trace'; report: boolean; payloadVersion: 1 | 2; batchMaxWaitMs?: number; commitIntervalMs?: number; compression?: 'zstd' }> = [
  { name: 'every value changes, v1 (default)', workload: 'counters', report: false, payloadVersion: 1 },
  { name: 'every value changes, v2', workload: 'counters', report: false, payloadVersion: 2 },
  { name: 'traces, v1', workload: 'trace', report: false, payloadVersion: 1 },
  { name: 'traces, v2', workload: 'trace', report: false, payloadVersion: 2 },
  { name: 'traces + report by exception, v1', workload: 'trace', report: true, payloadVersion: 1 },
  { name: 'traces + report by exception, v2', workload: 'trace', report: true, payloadVersion: 2 },
  // Few readings: batches and commits that wait 1 s carry more each (the envelope and the WAL pages per commit are fixed costs).
  { name: 'traces + report by exception, v1, batchMaxWait 1s, commitInterval 1s', workload: 'trace', report: true, payloadVersion: 1, batchMaxWaitMs: 1000, commitIntervalMs: 1000 },
  { name: 'traces + report by exception, v2, batchMaxWait 1s, commitInterval 1s', workload: 'trace', report: true, payloadVersion: 2, batchMaxWaitMs: 1000, commitIntervalMs: 1000 },
  // Compression on the wire for real (forward.compression), where the rows above only estimate it.
  { name: 'every value changes, v2, zstd', workload: 'counters', report: false, payloadVersion: 2, compression: 'zstd' },
  { name: 'traces + report by exception, v1, zstd, batchMaxWait 1s, commitInterval 1s', workload: 'trace', report: true, payloadVersion: 1, batchMaxWaitMs: 1000, commitIntervalMs: 1000, compression: 'zstd' },
];

// --only 7,8: just those rows (1-based), e.g. to re-measure one.
const only = values.only ? new Set(values.only.split(',').map(Number)) : null;
const broker = await startBroker();
const results: Array<{ name: string; result: IntersectionResult }> = [];
try {
  for (const [i, run] of runs.entries()) {
    if (only && !only.has(i + 1)) continue;
    const result = await measureIntersection({ broker, tmpRoot: tmpdir(), warmupMs, durationMs, trace: false, workload: run.workload, report: run.report, payloadVersion: run.payloadVersion, batchMaxWaitMs: run.batchMaxWaitMs, commitIntervalMs: run.commitIntervalMs, compression: run.compression });
    results.push({ name: run.name, result });
    process.stderr.write(`${run.name}: done\n`);
  }
} finally {
  await broker.dispose();
}

if (values.json) {
  console.log(JSON.stringify(results, null, 2));
} else {
  const f = (n: number | undefined, d = 2) => (n === undefined ? '-' : n.toFixed(d));
  console.log(`| run | sent/polled | wire B/value | disk B/value | deflate | brotli-4 | zstd-3 | CPU % | RSS MB | missing |`);
  console.log(`|---|---|---|---|---|---|---|---|---|---|`);
  for (const { name, result: r } of results) {
    const c = r.compression ?? {};
    const z = (k: string) => (c[k] ? `${f(c[k].wireBytesPerValue)} (${Math.round(c[k].usPerBatch)} µs)` : '-');
    console.log(`| ${name} | ${f(r.sentFraction, 3)} | ${f(r.wireBytesPerValue)} | ${f(r.diskBytesPerValue)} | ${z('deflate-6')} | ${z('brotli-4')} | ${z('zstd-3')} | ${f(r.cpuPercent, 1)} | ${f(r.rssMaxBytes / 1048576, 1)} | ${r.missing} |`);
  }
}
