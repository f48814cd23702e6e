import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandPacked, type PackedReadings } from '../model/packed-readings.js';
import { expandAll, PackedRun, type Committable } from '../model/packed-run.js';
import type { Reading } from '../model/reading.js';
import { Outbox } from '../outbox/outbox.js';
import { encodeReading, rowEncoder } from './encode.js';
import { RowWriter } from './row-writer.js';

/** Packed runs must be stored byte for byte as the same readings would be, wherever rows split them. */

function packed(names: string[], units: (string | undefined)[], values: (number | boolean)[], ts: number): PackedReadings {
  return { points: { names, units }, count: values.length, ts, value: (i) => values[i]! };
}

const valueArb = fc.oneof(fc.integer({ min: -2_147_483_648, max: 4_294_967_295 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean());

describe('RowWriter.packed', () => {
  it('is byte for byte encodeReading of the expanded readings, synced or not', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), fc.option(fc.string({ maxLength: 6 }), { nil: undefined }), valueArb), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 1, max: 1e9 }),
        fc.boolean(),
        (rows, firstSeq, unsynced) => {
          const p = packed(rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2]), 1_764_000_000_123);
          const run = new PackedRun('dev "1"', p);
          const want = expandPacked(p).map((r, i) => encodeReading({ ...r, device: run.device }, firstSeq + i, unsynced)).join(',');
          const w = new RowWriter();
          w.packed(run, 0, p.count, firstSeq, unsynced);
          expect(w.take().toString('utf8')).toBe(want);
          const payload = JSON.parse(`[${want}]`) as unknown[];
          expect(payload).toHaveLength(p.count);
        },
      ),
    );
  });
});

describe('rowEncoder(1)', () => {
  it('writes plain readings and packed runs, in any mix and any row size, as the readings one by one', () => {
    const readingArb: fc.Arbitrary<Reading> = fc.record({
      device: fc.string({ maxLength: 6 }),
      point: fc.string({ maxLength: 8 }),
      value: fc.oneof(valueArb, fc.string({ maxLength: 10 }), fc.constant(null)),
      quality: fc.constantFrom('good' as const, 'bad' as const, 'uncertain' as const),
      ts: fc.integer({ min: 0, max: 2e12 }),
    });
    const runArb = fc
      .array(valueArb, { minLength: 1, maxLength: 9 })
      .map((values) => new PackedRun('plc', packed(values.map((_, i) => `r${i}`), values.map((_, i) => (i % 2 ? 'V' : undefined)), values, 1_764_000_000_000)));
    fc.assert(
      fc.property(fc.array(fc.oneof(readingArb, runArb), { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 7 }), fc.boolean(), (items: Committable[], rowMax, unsynced) => {
        const rows: { count: number; text: string }[] = [];
        const end = rowEncoder(1).encodeRows(items, 100, rowMax, unsynced, (row) => rows.push({ count: row.count, text: row.body.toString('utf8') }));
        const readings = expandAll(items);
        expect(end).toBe(100 + readings.length);
        expect(rows.every((r) => r.count <= rowMax)).toBe(true);
        expect(rows.map((r) => r.text).join(',')).toBe(readings.map((r, i) => encodeReading(r, 100 + i, unsynced)).join(','));
      }),
    );
  });
});

describe('outbox with packed runs', () => {
  it('splits packed runs across rows at rowMaxReadings, with consecutive seqs and plain readings in between', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edge-gw-packed-'));
    try {
      const outbox = new Outbox({ path: join(dir, 'o.db'), durability: 'normal', encoder: rowEncoder(1), rowMaxReadings: 4, retention: { maxBytes: 1e9, maxAgeMs: 1e9 } });
      const a = new PackedRun('plc', packed(['a', 'b', 'c'], ['V', undefined, 'A'], [1, 2.5, true], 1000));
      const b = new PackedRun('plc', packed(['x', 'y', 'z', 'w', 'v'], [undefined, undefined, undefined, undefined, undefined], [5, 6, 7, 8, 9], 2000));
      const first = outbox.append('telemetry', [a, { device: 'gw', point: 'p', value: 'hi', quality: 'good', ts: 1500 }, b]);
      expect(first).toBe(1);
      const batch = outbox.claim('telemetry', 100, 1e6)!;
      expect(batch.count).toBe(9);
      const readings = JSON.parse(`[${batch.bodies.map((x) => x.toString('utf8')).join(',')}]`) as Array<{ seq: number; point: string; value: unknown }>;
      expect(readings.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(readings.map((r) => r.point)).toEqual(['a', 'b', 'c', 'p', 'x', 'y', 'z', 'w', 'v']);
      expect(batch.bodies).toHaveLength(3); // rows of 4, 4, 1
      expect(outbox.stats().pendingReadings).toBe(9);
      outbox.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
