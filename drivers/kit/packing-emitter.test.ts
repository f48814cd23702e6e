import fc from 'fast-check';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { expandPacked, type PackedReadings } from '../../gateway/model/packed-readings.js';
import type { DriverReading } from '../../gateway/model/reading.js';
import { encodeReading } from '../../gateway/payload/encode.js';
import type { DriverContext } from '../driver.js';
import { PackingEmitter } from './packing-emitter.js';
import { PointSet } from './point-set.js';

/**
 * A differential check of the packed path against the plain one: whatever mix of readings a driver
 * hands over, the packed runs expanded plus the plain readings are the same readings on the wire,
 * each point's readings in the order given, and only good finite numbers and booleans are packed.
 */

const declared = new PointSet([{ name: 'a', unit: 'V' }, { name: 'b' }, { name: 'c', unit: '%' }, { name: 'd' }]);
const unitOf: Record<string, string | undefined> = { a: 'V', b: undefined, c: '%', d: undefined, stranger: undefined };

const readingArb: fc.Arbitrary<DriverReading> = fc
  .record({
    point: fc.constantFrom('a', 'b', 'c', 'd', 'stranger'),
    value: fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.string({ maxLength: 4 }), fc.constant(null)),
    quality: fc.constantFrom('good' as const, 'good' as const, 'bad' as const, 'uncertain' as const),
    ts: fc.constantFrom(1_764_000_000_000, 1_764_000_000_100, Number.NaN),
    kind: fc.constantFrom(undefined, 'telemetry' as const, 'event' as const),
    attrs: fc.option(fc.constant({ intervalMs: 5 }), { nil: undefined, freq: 4 }),
    wrongUnit: fc.boolean(),
  })
  .map(({ wrongUnit, point, kind, attrs, ...r }) => {
    const unit = wrongUnit ? 'furlong' : unitOf[point];
    return { point, ...r, ...(unit !== undefined ? { unit } : {}), ...(kind !== undefined ? { kind } : {}), ...(attrs !== undefined ? { attrs } : {}) };
  });

function recorder(packed: boolean) {
  const calls: Array<{ packed: readonly PackedReadings[] } | { plain: DriverReading[] }> = [];
  const ctx: DriverContext = {
    deviceId: 'dev',
    log: pino({ level: 'silent' }),
    emit: (plain) => calls.push({ plain }),
    ...(packed ? { emitPacked: (runs: readonly PackedReadings[]) => calls.push({ packed: runs }) } : {}),
  };
  const readings = () => calls.flatMap((c) => ('packed' in c ? c.packed.flatMap(expandPacked) : c.plain));
  return { ctx, calls, readings };
}

// The wire form (kind telemetry is not written); a NaN ts would be written as the time of encoding.
const wire = (r: DriverReading) => encodeReading({ ...r, device: 'dev', ts: Number.isNaN(r.ts) ? 0 : r.ts }, 1, false);
const byPoint = (rs: readonly DriverReading[]) => {
  const m = new Map<string, string[]>();
  for (const r of rs) m.set(r.point, [...(m.get(r.point) ?? []), wire(r)]);
  return m;
};

describe('PackingEmitter', () => {
  it('hands over the same readings, per point in order, packing exactly the good numbers and booleans of declared points', () => {
    fc.assert(
      fc.property(fc.array(readingArb, { maxLength: 30 }), (readings) => {
        const rec = recorder(true);
        new PackingEmitter(declared, rec.ctx).emit(readings);
        expect(byPoint(rec.readings())).toEqual(byPoint(readings));
        const packed = rec.calls.flatMap((c) => ('packed' in c ? c.packed : []));
        for (const run of packed) {
          for (let i = 0; i < run.count; i++) {
            const v = run.value(i);
            expect(typeof v === 'boolean' || Number.isFinite(v)).toBe(true);
            expect(run.points.names[i]).not.toBe('stranger');
          }
          expect(new Set(run.points.names).size).toBe(run.count);
        }
        const packable = readings.filter(
          (r) => r.quality === 'good' && r.kind !== 'event' && r.attrs === undefined && Number.isFinite(r.ts) && r.point !== 'stranger' && r.unit === unitOf[r.point] && (typeof r.value === 'boolean' || (typeof r.value === 'number' && Number.isFinite(r.value))),
        );
        expect(packed.reduce((n, run) => n + run.count, 0)).toBe(packable.length);
        // Adjacent calls alternate: packed runs of consecutive stretches go in one call.
        rec.calls.forEach((c, i) => i === 0 || expect('packed' in c).not.toBe('packed' in rec.calls[i - 1]!));
      }),
    );
  });

  it('one read of good values is one call with one run, its points compiled once', () => {
    const rec = recorder(true);
    const emitter = new PackingEmitter(declared, rec.ctx);
    const read = (ts: number): DriverReading[] => [
      { point: 'a', value: 1.5, quality: 'good', ts, unit: 'V', kind: 'telemetry' },
      { point: 'b', value: true, quality: 'good', ts },
    ];
    emitter.emit(read(1000));
    emitter.emit(read(2000));
    expect(rec.calls).toHaveLength(2);
    const [first, second] = rec.calls.map((c) => ('packed' in c ? c.packed : []));
    expect(first).toHaveLength(1);
    expect(first![0]!.points).toBe(second![0]!.points);
    expect(expandPacked(first![0]!)).toEqual([
      { point: 'a', value: 1.5, quality: 'good', ts: 1000, unit: 'V' },
      { point: 'b', value: true, quality: 'good', ts: 1000 },
    ]);
  });

  it('a point read twice in one hand-over gives two runs, in order', () => {
    const rec = recorder(true);
    new PackingEmitter(declared, rec.ctx).emit([
      { point: 'b', value: 1, quality: 'good', ts: 1000 },
      { point: 'b', value: 2, quality: 'good', ts: 1000 },
    ]);
    expect(rec.calls).toHaveLength(1);
    const runs = 'packed' in rec.calls[0]! ? rec.calls[0].packed : [];
    expect(runs.map((r) => r.value(0))).toEqual([1, 2]);
  });

  it('without emitPacked on the context, the readings go to emit unchanged', () => {
    const rec = recorder(false);
    const readings: DriverReading[] = [
      { point: 'a', value: 1, quality: 'good', ts: 1000, unit: 'V', kind: 'telemetry' },
      { point: 'c', value: null, quality: 'bad', ts: 1000, unit: '%' },
    ];
    new PackingEmitter(declared, rec.ctx).emit(readings);
    expect(rec.calls).toEqual([{ plain: readings }]);
  });
});
