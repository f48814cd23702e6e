import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PackedPoints, PackedReadings } from '../model/packed-readings.js';
import type { DriverReading } from '../model/reading.js';
import { ReportFilter } from './filter.js';
import { reportSchema, type ReportConfig } from './rules.js';
import { takeReportState, writeReportState } from './state-file.js';

const config = (raw: unknown): ReportConfig => reportSchema.parse(raw);
const good = (point: string, value: number | boolean | string, ts: number): DriverReading => ({ point, value, quality: 'good', ts });

function filterFor(raw: unknown): ReportFilter {
  const f = new ReportFilter();
  f.configure([{ id: 'd', report: config(raw) }]);
  return f;
}

/** Feeds one reading at a time and returns which were sent, as `value` or `value:hb`. */
function sent(f: ReportFilter, readings: DriverReading[]): string[] {
  return readings.flatMap((r) => f.readings('d', [r]).map((s) => `${String(s.value)}${s.attrs?.report === 'heartbeat' ? ':hb' : ''}`));
}

describe('report-by-exception filter', () => {
  it('sends a number only when it moves by more than the absolute deadband from the value last sent', () => {
    const f = filterFor({ deadband: 1, heartbeat: '1h' });
    // 10 sent; 11 is exactly the deadband: held; 11.01 is past it; drift of 0.5 steps never accumulates past it.
    expect(sent(f, [10, 11, 9, 11.01, 11.5, 12, 12.02, 10].map((v, i) => good('p', v, i * 100)))).toEqual(['10', '11.01', '12.02', '10']);
  });

  it('with deadband 0 sends every change and holds repeats', () => {
    const f = filterFor({ heartbeat: '1h' });
    expect(sent(f, [1, 1, 2, 2, 1].map((v, i) => good('p', v, i)))).toEqual(['1', '2', '1']);
  });

  it('applies the larger of the absolute and the relative deadband', () => {
    const f = filterFor({ deadband: 1, deadbandPercent: 10, heartbeat: '1h' });
    // From 100 the tolerance is 10 (10% > 1); from 5 it is 1 (the absolute one is larger).
    expect(sent(f, [100, 110, 110.5, 5, 5.9, 6.5].map((v, i) => good('p', v, i)))).toEqual(['100', '110.5', '5', '6.5']);
  });

  it('always sends bad and uncertain readings and non-finite values, and the good one after them', () => {
    const f = filterFor({ deadband: 5, heartbeat: '1h' });
    const out = f.readings('d', [
      good('p', 10, 0),
      { point: 'p', value: null, quality: 'bad', ts: 1 },
      { point: 'p', value: null, quality: 'bad', ts: 2 },
      good('p', 10, 3),
      good('p', Number.NaN, 4),
      good('p', 10, 5),
      { point: 'p', value: 10, quality: 'uncertain', ts: 6 },
      good('p', 10, 7),
      good('p', 11, 8),
    ]);
    expect(out.map((r) => [r.ts, r.quality])).toEqual([[0, 'good'], [1, 'bad'], [2, 'bad'], [3, 'good'], [4, 'good'], [5, 'good'], [6, 'uncertain'], [7, 'good']]);
  });

  it('sends a reading without a usable timestamp, and the next one after it, so no heartbeat is lost to NaN', () => {
    const f = filterFor({ heartbeat: '10s' });
    expect(sent(f, [good('p', 1, 0), good('p', 1, Number.NaN), good('p', 1, 5_000), good('p', 1, 10_000), good('p', 1, 12_000), good('p', 1, 20_000)])).toEqual(['1', '1', '1', '1:hb']);
  });

  it('sends an unchanged value again as a marked heartbeat once the heartbeat has passed in reading time', () => {
    const f = filterFor({ deadband: 1, heartbeat: '10s' });
    const ts = [0, 5_000, 9_999, 10_000, 15_000, 19_999, 20_000, 20_100];
    expect(sent(f, ts.map((t) => good('p', 10, t)))).toEqual(['10', '10:hb', '10:hb']);
    // A change resets the heartbeat; a clock that went back sends at once (no silence past it).
    expect(sent(f, [good('p', 20, 25_000), good('p', 20, 34_999), good('p', 20, 35_000), good('p', 20, 1_000)])).toEqual(['20', '20:hb', '20:hb']);
  });

  it('keeps the device heartbeat on a per-point override and lets a point opt out', () => {
    const f = filterFor({ deadband: 1, heartbeat: '1m', points: { v: { deadband: 10 }, raw: { onChange: false } } });
    expect(sent(f, [good('v', 230, 0), good('v', 239, 1), good('v', 230, 60_000)])).toEqual(['230', '230:hb']);
    expect(sent(f, [good('raw', 1, 0), good('raw', 1, 1)])).toEqual(['1', '1']);
    expect(sent(f, [good('x', 1, 0), good('x', 1.5, 1), good('x', 2.5, 2)])).toEqual(['1', '2.5']);
  });

  it('compares booleans and strings by equality and passes events and unfiltered devices untouched', () => {
    const f = filterFor({ heartbeat: '1h' });
    expect(sent(f, [good('b', true, 0), good('b', true, 1), good('b', false, 2), good('s', 'auto', 3), good('s', 'auto', 4), good('s', 'manual', 5)])).toEqual(['true', 'false', 'auto', 'manual']);
    const scan: DriverReading = { point: 'scan', value: 'X', quality: 'good', ts: 1, kind: 'event' };
    expect(f.readings('d', [scan, scan])).toEqual([scan, scan]);
    const other = [good('p', 1, 0), good('p', 1, 1)];
    expect(f.readings('other', other)).toBe(other);
  });

  it('rejects settings it cannot honour at load', () => {
    expect(() => config({ deadband: -1 })).toThrow();
    expect(() => config({ heartbeat: '10ms' })).toThrow(/heartbeat must be between 1s and 1d/);
    expect(() => config({ points: { p: { heartbeat: '2d' } } })).toThrow(/heartbeat must be between/);
    expect(() => config({ deadbandTypo: 1 })).toThrow();
  });
});

function packedRun(points: PackedPoints, values: number[], ts: number): PackedReadings {
  return { points, count: values.length, ts, value: (i) => values[i]! };
}

describe('report-by-exception on packed runs', () => {
  const points: PackedPoints = { names: ['a', 'b', 'c', 'd'], units: ['V', undefined, undefined, 'Cel'] };

  it('keeps a run whole when every point passes, drops it when none does, packs the subset that changed', () => {
    const f = filterFor({ deadband: 1, heartbeat: '10s' });
    const first = packedRun(points, [1, 2, 3, 4], 0);
    const r1 = f.packed('d', [first]);
    expect(r1.runs).toEqual([first]);
    expect(f.packed('d', [packedRun(points, [1.5, 2, 3, 4], 100)]).runs).toEqual([]);
    const r3 = f.packed('d', [packedRun(points, [1, 9, 3, 14], 200)]);
    expect(r3.readings).toEqual([]);
    expect(r3.runs).toHaveLength(1);
    const sub = r3.runs[0]!;
    expect([sub.points.names, sub.points.units, sub.count, sub.ts, [sub.value(0), sub.value(1)]]).toEqual([['b', 'd'], [undefined, 'Cel'], 2, 200, [9, 14]]);
    // The same subset again is the same PackedPoints object (one v2 layout per subset).
    const r4 = f.packed('d', [packedRun(points, [1, 20, 3, 30], 300)]);
    expect(r4.runs[0]!.points).toBe(sub.points);
  });

  it('sends heartbeats of a packed run as plain marked readings', () => {
    const f = filterFor({ deadband: 1, heartbeat: '10s' });
    f.packed('d', [packedRun(points, [1, 2, 3, 4], 0)]);
    f.packed('d', [packedRun(points, [1, 9, 3, 4], 5_000)]);
    const out = f.packed('d', [packedRun(points, [1, 9, 3, 4], 10_000)]);
    expect(out.runs).toEqual([]);
    expect(out.readings).toEqual([
      { point: 'a', value: 1, quality: 'good', ts: 10_000, unit: 'V', attrs: { report: 'heartbeat' } },
      { point: 'c', value: 3, quality: 'good', ts: 10_000, attrs: { report: 'heartbeat' } },
      { point: 'd', value: 4, quality: 'good', ts: 10_000, unit: 'Cel', attrs: { report: 'heartbeat' } },
    ]);
  });

  it('holds the same values whether they came packed or plain (one rule)', () => {
    const values = [[10, 0, 5, 1], [10.4, 0, 5, 1], [12, 3, 5, 0], [12, 3, 5, 0]];
    const a = filterFor({ deadband: 1, heartbeat: '1h' });
    const b = filterFor({ deadband: 1, heartbeat: '1h' });
    const viaPacked = values.flatMap((v, t) => {
      const o = a.packed('d', [packedRun(points, v, t)]);
      return [...o.runs.flatMap((r) => Array.from({ length: r.count }, (_, i) => `${r.points.names[i]}=${r.value(i)}`)), ...o.readings.map((r) => `${r.point}=${String(r.value)}`)];
    });
    const viaPlain = values.flatMap((v, t) => b.readings('d', v.map((x, i) => good(points.names[i]!, x, t))).map((r) => `${r.point}=${String(r.value)}`));
    expect(viaPacked).toEqual(viaPlain);
    // d moves by exactly the deadband (1 -> 0): held.
    expect(viaPacked).toEqual(['a=10', 'b=0', 'c=5', 'd=1', 'a=12', 'b=3']);
  });
});

describe('report-by-exception state across a restart', () => {
  it('a filter restored from the state file holds what the previous run sent, with its heartbeat clock', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rbe-'));
    const path = join(dir, 'report-state.json');
    const before = filterFor({ deadband: 1, heartbeat: '10s' });
    expect(sent(before, [good('p', 10, 0), good('s', 'auto', 0)])).toEqual(['10', 'auto']);
    writeReportState(path, before.sentStates());

    const after = new ReportFilter(takeReportState(path));
    after.configure([{ id: 'd', report: config({ deadband: 1, heartbeat: '10s' }) }]);
    // The file is consumed at start: a crash later in this run must not find it again.
    expect(existsSync(path)).toBe(false);
    expect(sent(after, [good('p', 10.5, 3_000), good('s', 'auto', 3_000), good('p', 10.5, 10_000), good('p', 12, 10_001)])).toEqual(['10.5:hb', '12']);
  });

  it('without a state file (first start, or after a crash) the first reading of every point is sent', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rbe-'));
    expect(takeReportState(join(dir, 'report-state.json'))).toBeNull();
    const f = new ReportFilter(null);
    f.configure([{ id: 'd', report: config({ deadband: 1 }) }]);
    expect(sent(f, [good('p', 10, 0)])).toEqual(['10']);
  });

  it('does not keep a point whose last reading was bad, and rejects a damaged file with its path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rbe-'));
    const path = join(dir, 'report-state.json');
    const f = filterFor({ deadband: 1 });
    f.readings('d', [good('p', 10, 0), good('q', 1, 0), { point: 'q', value: null, quality: 'bad', ts: 1 }]);
    writeReportState(path, f.sentStates());
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ v: 1, devices: { d: { p: [10, 0] } } });
    writeFileSync(path, '{"v":1,"devices":{"d":{"p":[10]}}}');
    expect(() => takeReportState(path)).toThrow(new RegExp(`report state ${path}: d/p is not \\[value, ts\\]`));
    expect(existsSync(path)).toBe(false);
  });
});
