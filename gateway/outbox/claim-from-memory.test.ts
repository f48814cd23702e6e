import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Reading } from '../model/reading.js';
import { PackedRun, type Committable } from '../model/packed-run.js';
import type { ClaimedBatch } from '../model/claimed-batch.js';
import type { Stream } from '../model/stream.js';
import { rowEncoder } from '../payload/encode.js';
import { Outbox } from './outbox.js';

/**
 * Claims are served from the rows just committed while the forwarder keeps up (the outbox's
 * in-memory tail), and from SQLite otherwise. Whatever happens in between (releases, retention,
 * shifted ages, a forwarder falling behind), every claim must be exactly what SQLite would give.
 */

type Op =
  | { op: 'append'; stream: Stream; items: Committable[] }
  | { op: 'claim'; stream: Stream; maxReadings: number; maxBytes: number; holdMs: number; dt: number }
  | { op: 'ack'; which: number }
  | { op: 'release' }
  | { op: 'retention'; maxBytes: number }
  | { op: 'shift'; deltaMs: number };

const points = { names: ['a', 'b', 'c'], units: ['V', undefined, 'A'] };
const reading = (v: number): Reading => ({ device: 'd', point: 'p', value: v, quality: 'good', ts: 1_764_000_000_000 + v });
const itemArb: fc.Arbitrary<Committable> = fc.oneof(
  fc.integer({ min: 0, max: 1000 }).map(reading),
  fc.integer({ min: 0, max: 1000 }).map((v) => new PackedRun('plc', { points, count: 3, ts: 1_764_000_000_000 + v, value: (i) => v + i })),
);
const streamArb = fc.constantFrom<Stream>('telemetry', 'telemetry', 'event');
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('append' as const), stream: streamArb, items: fc.array(itemArb, { minLength: 1, maxLength: 6 }) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('claim' as const),
      stream: streamArb,
      maxReadings: fc.integer({ min: 1, max: 12 }),
      maxBytes: fc.integer({ min: 50, max: 3000 }),
      holdMs: fc.constantFrom(0, 0, 100),
      dt: fc.integer({ min: 0, max: 150 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('ack' as const), which: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ op: 'release' as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('retention' as const), maxBytes: fc.integer({ min: 0, max: 4000 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('shift' as const), deltaMs: fc.integer({ min: -500, max: 500 }) }) },
);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'edge-gw-tail-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function comparable(b: ClaimedBatch | null) {
  return b && { ...b, bodies: b.bodies.map((x) => x.toString('utf8')), layouts: b.layouts.map((l) => l.id) };
}

describe('claims from the in-memory tail', () => {
  it('are exactly what SQLite gives, through any mix of appends, claims, acks, releases, retention and clock steps', () => {
    let run = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), fc.constantFrom<1 | 2>(1, 2), fc.integer({ min: 1, max: 7 }), (ops, payloadVersion, rowMaxReadings) => {
        run++;
        const open = (name: string, claimFromMemory: boolean) =>
          new Outbox({ path: join(dir, `${name}-${run}.db`), durability: 'normal', rowMaxReadings, retention: { maxBytes: 1e9, maxAgeMs: 1e12 }, encoder: rowEncoder(payloadVersion), claimFromMemory });
        const mem = open('mem', true);
        const sql = open('sql', false);
        const claimed: ClaimedBatch[] = [];
        let now = 1_764_000_000_000;
        try {
          for (const o of ops) {
            switch (o.op) {
              case 'append':
                expect(mem.append(o.stream, o.items, now)).toBe(sql.append(o.stream, o.items, now));
                break;
              case 'claim': {
                now += o.dt;
                const a = mem.claim(o.stream, o.maxReadings, o.maxBytes, o.holdMs, now);
                const b = sql.claim(o.stream, o.maxReadings, o.maxBytes, o.holdMs, now);
                expect(comparable(a)).toEqual(comparable(b));
                if (a) claimed.push(a);
                break;
              }
              case 'ack': {
                if (claimed.length === 0) break;
                const [batch] = claimed.splice(o.which % claimed.length, 1);
                mem.ack(batch!);
                sql.ack(batch!);
                break;
              }
              case 'release':
                mem.release();
                sql.release();
                claimed.length = 0;
                break;
              case 'retention':
                for (const ob of [mem, sql]) ob.setRetention({ maxBytes: o.maxBytes, maxAgeMs: 1e12 });
                expect(mem.enforceRetention(now)).toEqual(sql.enforceRetention(now));
                break;
              case 'shift':
                mem.shiftAges(o.deltaMs, mem.nextSequence);
                sql.shiftAges(o.deltaMs, sql.nextSequence);
                break;
            }
          }
          // And what is left drains the same.
          mem.release();
          sql.release();
          for (const stream of ['event', 'telemetry'] as const) {
            for (;;) {
              const a = mem.claim(stream, 5, 1e6, 0, now);
              expect(comparable(a)).toEqual(comparable(sql.claim(stream, 5, 1e6, 0, now)));
              if (!a) break;
              mem.ack(a);
              sql.ack(a);
            }
          }
          expect(mem.stats(now)).toEqual({ ...sql.stats(now), outboxId: mem.id });
        } finally {
          mem.close();
          sql.close();
        }
      }),
      { numRuns: 150 },
    );
  });

  it('falls back to SQLite when the forwarder falls behind, and serves from memory again once caught up', () => {
    const ob = new Outbox({ path: join(dir, 'behind.db'), durability: 'normal', encoder: rowEncoder(1), rowMaxReadings: 500, retention: { maxBytes: 1e9, maxAgeMs: 1e12 } });
    const readings = (n: number, base: number) => Array.from({ length: n }, (_, i) => reading(base + i));
    expect(ob.claim('telemetry', 1e6, 1e9)).toBeNull(); // caught up: the tail is in use
    // ~5 MB unclaimed (the broker is away): more than the tail holds.
    for (let i = 0; i < 100; i++) ob.append('telemetry', readings(500, i * 500));
    let seq = 1;
    for (let b = ob.claim('telemetry', 5000, 512 * 1024); b !== null; b = ob.claim('telemetry', 5000, 512 * 1024)) {
      expect(b.firstSeq).toBe(seq);
      seq = b.lastSeq + 1;
      ob.ack(b);
    }
    expect(seq).toBe(50_001);
    ob.append('telemetry', readings(3, 0));
    const after = ob.claim('telemetry', 5000, 512 * 1024)!;
    expect([after.firstSeq, after.lastSeq]).toEqual([50_001, 50_003]);
    ob.close();
  });
});
