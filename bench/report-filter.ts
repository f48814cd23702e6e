import type { PackedPoints, PackedReadings } from '../gateway/model/packed-readings.js';
import { ReportFilter } from '../gateway/report/filter.js';
import { reportSchema } from '../gateway/report/rules.js';
import { intersectionTrace, POLL_MS } from '../test-rigs/traces/intersection.js';

/**
 * What report by exception costs the gateway per polled value (ns), on the packed path the
 * Modbus drivers take: a poll of the realistic trace (most points held, a few passing as a
 * re-packed subset), every point changing (the run passes whole), and no report block.
 *
 *   npm run build && node dist/bench/report-filter.js
 */
const trace = intersectionTrace(1, 36_000);
const points: PackedPoints = { names: trace.points.map((p) => p.name), units: trace.points.map((p) => p.unit) };
const report = reportSchema.parse({ deadband: 0, heartbeat: '60s', points: { 'mains.voltage': { deadband: 1 } } });

function run(name: string, configured: boolean, valueAt: (step: number, i: number) => number): void {
  const f = new ReportFilter();
  f.configure([{ id: 'd', ...(configured ? { report } : {}) }]);
  let sink = 0;
  const polls = (step0: number, n: number) => {
    for (let s = step0; s < step0 + n; s++) {
      const p: PackedReadings = { points, count: points.names.length, ts: s * POLL_MS, value: (i) => valueAt(s, i) };
      const out = f.packed('d', [p]);
      sink += out.runs.length + out.readings.length;
    }
  };
  polls(0, 5_000); // warm
  const t0 = process.hrtime.bigint();
  polls(5_000, 30_000);
  const ns = Number(process.hrtime.bigint() - t0) / (30_000 * points.names.length);
  const st = f.stats();
  console.log(`${name.padEnd(44)} ${ns.toFixed(1).padStart(6)} ns/value   sent ${(((st.passed + st.heartbeats) / (st.passed + st.heartbeats + st.held || 1)) * 100).toFixed(1)} %  (${sink} outputs)`);
}

run('no report block (pass-through)', false, (s, i) => trace.value(s, i));
run('realistic trace, report by exception', true, (s, i) => trace.value(s, i));
run('every value changes (runs pass whole)', true, (s, i) => s * 20 + i);
