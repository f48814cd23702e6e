import fc from 'fast-check';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PackedReadings } from '../model/packed-readings.js';
import type { Reading } from '../model/reading.js';
import { batchPayload } from '../payload/envelope.js';
import { PackedRun, type Committable } from '../model/packed-run.js';
import type { ClaimedBatch } from '../model/claimed-batch.js';
import { rowEncoder } from '../payload/encode.js';
import { Outbox } from './outbox.js';

/**
 * Payload v2 stores a good poll as one record (gateway/payload/layouts.ts, RowWriter.record). What
 * a subscriber gets after expanding the records must be, reading for reading and seq for seq,
 * what the same commits give in v1.
 */

type Json = Record<string, unknown>;

function packed(names: string[], units: (string | undefined)[], values: (number | boolean)[], ts: number): PackedReadings {
  return { points: { names, units }, count: values.length, ts, value: (i) => values[i]! };
}

/** A v2 batch as the plain readings it stands for (docs/payload.md, "v2: poll records"). */
function expand(payload: Json): Json[] {
  const layouts = (payload.layouts ?? {}) as Record<string, { device: string; points: string[]; units?: (string | null)[] }>;
  return (payload.readings as Json[]).flatMap((item) => {
    if (!('layout' in item)) return [item];
    const l = layouts[item.layout as string];
    if (l === undefined) throw new Error(`layout ${String(item.layout)} not in the batch`);
    const values = item.values as unknown[];
    expect(values).toHaveLength(l.points.length);
    return values.map((value, i) => {
      const unit = l.units?.[i];
      return {
        seq: (item.seq as number) + i,
        device: l.device,
        point: l.points[i],
        ...(unit == null ? {} : { unit }),
        value,
        quality: 'good',
        ts: item.ts,
        ...(item.clock === undefined ? {} : { clock: item.clock }),
      };
    });
  });
}

/** Claims and publishes (as payload bytes) until the outbox is empty. */
function drain(outbox: Outbox, maxReadings: number, maxBytes: number, version: 1 | 2): { payloads: Json[]; batches: ClaimedBatch[] } {
  const payloads: Json[] = [];
  const batches: ClaimedBatch[] = [];
  for (let b = outbox.claim('telemetry', maxReadings, maxBytes); b !== null; b = outbox.claim('telemetry', maxReadings, maxBytes)) {
    batches.push(b);
    payloads.push(JSON.parse(batchPayload('gw', outbox.id, `b${batches.length}`, b, 1, version).toString('utf8')) as Json);
    outbox.ack(b);
  }
  return { payloads, batches };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'edge-gw-records-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const open = (name: string, packedAs: 'readings' | 'records', rowMaxReadings = 500) =>
  new Outbox({ path: join(dir, name), durability: 'normal', rowMaxReadings, retention: { maxBytes: 1e9, maxAgeMs: 1e12 }, encoder: rowEncoder(packedAs === 'records' ? 2 : 1) });

const LAYOUTS = [
  { names: ['flow', 'level', 'pump.on'], units: ['l/s', 'm', undefined] },
  { names: ['det1.count', 'det2.count'], units: [undefined, undefined] },
  { names: ['a "quoted" name', 'ünïcode'], units: ['°C', '%'] },
];
const valueArb = fc.oneof(fc.integer({ min: -2_147_483_648, max: 4_294_967_295 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean());
const itemArb: fc.Arbitrary<Committable> = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: LAYOUTS.length - 1 }), fc.constantFrom('plc-1', 'plc-2'), fc.array(valueArb, { minLength: 3, maxLength: 3 })).map(([k, device, vs]) => {
    const l = LAYOUTS[k]!;
    return new PackedRun(device, packed(l.names, l.units, vs.slice(0, l.names.length), 1_764_000_000_000 + k));
  }),
  fc.record({ value: fc.oneof(valueArb, fc.constant(null)), quality: fc.constantFrom('good' as const, 'bad' as const) }).map(
    ({ value, quality }): Reading => ({ device: 'plc-1', point: 'lamp.fault', value: quality === 'bad' ? null : value, quality, ts: 1_764_000_000_500 }),
  ),
);

describe('outbox storing poll records (payload v2)', () => {
  it('expands to exactly the v1 readings of the same commits, however rows and batches split them', () => {
    let run = 0;
    fc.assert(
      fc.property(
        fc.array(fc.array(itemArb, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 200, max: 4000 }),
        (commits, rowMax, batchMax, batchBytes) => {
          run++;
          const v1 = open(`v1-${run}.db`, 'readings', rowMax);
          const v2 = open(`v2-${run}.db`, 'records', rowMax);
          for (const items of commits) expect(v2.append('telemetry', items)).toBe(v1.append('telemetry', items));
          const want = drain(v1, 1e6, 1e9, 1).payloads.flatMap((p) => p.readings as Json[]);
          const { payloads } = drain(v2, batchMax, batchBytes, 2);
          const got = payloads.flatMap(expand);
          expect(got).toEqual(want);
          for (const p of payloads) {
            const items = p.readings as Json[];
            const expanded = expand(p);
            expect(p.v).toBe(2);
            expect(p.count).toBe(expanded.length);
            expect(p.firstSeq).toBe(expanded[0]!.seq);
            expect(p.lastSeq).toBe(expanded[expanded.length - 1]!.seq);
            const named = new Set(items.filter((i) => 'layout' in i).map((i) => i.layout as string));
            expect(new Set(Object.keys((p.layouts ?? {}) as Json))).toEqual(named);
            for (const id of named) expect(id).toMatch(/^[0-9a-f]{12}$/);
          }
          v1.close();
          v2.close();
        },
      ),
      { numRuns: 60 },
    );
  });

  it('never splits a record across rows: a row ends after the record that reaches rowMaxReadings', () => {
    const outbox = open('rows.db', 'records', 4);
    const l = LAYOUTS[0]!;
    const poll = (ts: number) => new PackedRun('plc', packed(l.names, l.units, [1, 2, true], ts));
    outbox.append('telemetry', [poll(1), poll(2), poll(3)]);
    const batch = outbox.claim('telemetry', 1e6, 1e9)!;
    expect(batch.bodies).toHaveLength(2); // 3 + 3 (past 4), then 3
    expect(batch.bodies.map((b) => (JSON.parse(`[${b.toString('utf8')}]`) as Json[]).length)).toEqual([2, 1]);
    expect(batch.count).toBe(9);
    outbox.close();
  });

  it('keeps layouts across a restart, and forgets those no stored row names any more', () => {
    const path = join(dir, 'restart.db');
    const a = LAYOUTS[0]!;
    const b = LAYOUTS[1]!;
    let outbox = open('restart.db', 'records');
    outbox.append('telemetry', [new PackedRun('plc', packed(a.names, a.units, [1, 2, true], 10))]);
    outbox.append('telemetry', [new PackedRun('plc', packed(b.names, b.units, [3, 4], 20))]);
    outbox.close();

    outbox = open('restart.db', 'records');
    const first = outbox.claim('telemetry', 3, 1e9)!;
    expect(first.layouts.map((l) => JSON.parse(l.text) as Json)).toEqual([{ device: 'plc', points: a.names, units: ['l/s', 'm', null] }]);
    outbox.ack(first);
    const second = outbox.claim('telemetry', 100, 1e9)!;
    expect(second.layouts.map((l) => JSON.parse(l.text) as Json)).toEqual([{ device: 'plc', points: b.names }]);
    outbox.ack(second);
    outbox.close();

    const db = new Database(path);
    expect(db.prepare('SELECT count(*) AS n FROM layouts').get()).toEqual({ n: 2 });
    db.close();
    open('restart.db', 'records').close();
    const after = new Database(path, { readonly: true });
    expect(after.prepare('SELECT count(*) AS n FROM layouts').get()).toEqual({ n: 0 });
    after.close();
  });

  it('opens an outbox written before v2 (no layouts column) and keeps its rows', () => {
    const path = join(dir, 'old.db');
    const db = new Database(path);
    db.exec(`CREATE TABLE telemetry (first_seq INTEGER PRIMARY KEY, count INTEGER NOT NULL, created_ms INTEGER NOT NULL, body TEXT NOT NULL);
      CREATE TABLE events (first_seq INTEGER PRIMARY KEY, count INTEGER NOT NULL, created_ms INTEGER NOT NULL, body TEXT NOT NULL);
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      INSERT INTO telemetry VALUES (0, 2, 0, '');
      INSERT INTO telemetry VALUES (1, 1, ${Date.now()}, '{"seq":1,"device":"d","point":"p","value":1,"quality":"good","ts":5}');`);
    db.close();
    const outbox = open('old.db', 'records');
    const l = LAYOUTS[1]!;
    expect(outbox.append('telemetry', [new PackedRun('plc', packed(l.names, l.units, [7, 8], 30))])).toBe(2);
    const { payloads } = drain(outbox, 100, 1e9, 2);
    expect(payloads.flatMap(expand).map((r) => [r.seq, r.point, r.value])).toEqual([
      [1, 'p', 1],
      [2, 'det1.count', 7],
      [3, 'det2.count', 8],
    ]);
    outbox.close();
  });

  it('counts the layouts a batch carries against batchMaxBytes', () => {
    const outbox = open('bytes.db', 'records', 1);
    const names = Array.from({ length: 50 }, (_, i) => `a-rather-long-point-name-${i}`);
    const units = names.map(() => undefined);
    outbox.append('telemetry', [new PackedRun('plc', packed(names, units, names.map((_, i) => i), 1))]);
    outbox.append('telemetry', [new PackedRun('plc-2', packed(names, units, names.map((_, i) => i), 2))]);
    const maxBytes = 2000;
    const first = outbox.claim('telemetry', 1e6, maxBytes)!;
    // Each row's body is ~200 B, each layout ~1.6 KB: the second row's layout would not fit.
    expect(first.bodies).toHaveLength(1);
    expect(batchPayload('gw', outbox.id, 'b', first, 1).length).toBeLessThanOrEqual(maxBytes + 200);
    outbox.close();
  });
});
