import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClaimedBatch } from '../model/claimed-batch.js';
import type { Reading } from '../model/reading.js';
import { uncovered } from './kept-acked.js';
import { Outbox, type OutboxOptions } from './outbox.js';
import { openTestOutbox } from '../../test-rigs/outbox-fixture.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kept-acked-test-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const T0 = 1_700_000_000_000;
const MIN = 60_000;

const open = (extra: Partial<OutboxOptions> = {}): Outbox => openTestOutbox(dir, { keepAcked: { maxAgeMs: 10 * MIN, maxBytes: 32e6 }, ...extra });

function readings(n: number, kind?: 'event'): Reading[] {
  return Array.from({ length: n }, (_, i) => ({ device: 'dev', point: 'p', value: i, quality: 'good' as const, ts: T0 + i, kind }));
}

function seqsOf(batch: ClaimedBatch): number[] {
  return (JSON.parse(`[${batch.bodies.map((b) => b.toString('utf8')).join(',')}]`) as { seq: number }[]).map((r) => r.seq);
}

function drain(ob: Outbox, now: number): void {
  for (const stream of ['event', 'telemetry'] as const) {
    for (let b = ob.claim(stream, 1000, 1e9); b; b = ob.claim(stream, 1000, 1e9)) ob.ack(b, now);
  }
}

function readAllKept(ob: Outbox, stream: 'event' | 'telemetry', toSeq: number, fromSeq = 1): number[] {
  const seqs: number[] = [];
  for (let key = 0, b = ob.readKept(stream, key, fromSeq, toSeq, 150, 1e9); b; key = b.toKey, b = ob.readKept(stream, key, fromSeq, toSeq, 150, 1e9)) seqs.push(...seqsOf(b));
  return seqs;
}

describe('acknowledged rows kept for replay', () => {
  it('keeps acked rows out of claims and pending counts, and reads them back by seq', () => {
    const ob = open();
    ob.append('telemetry', readings(250));
    ob.append('event', readings(3, 'event'));
    drain(ob, T0);
    expect(ob.claim('telemetry', 1000, 1e9)).toBeNull();
    ob.release();
    expect(ob.claim('telemetry', 1000, 1e9)).toBeNull();
    const s = ob.stats(T0);
    expect([s.pendingReadings, s.keptReadings]).toEqual([0, 253]);
    expect(readAllKept(ob, 'telemetry', 1e9)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
    expect(readAllKept(ob, 'event', 1e9)).toEqual([251, 252, 253]);
    // Whole rows (100 readings each) that overlap the range.
    expect(readAllKept(ob, 'telemetry', 150)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(readAllKept(ob, 'telemetry', 210, 150)).toEqual(Array.from({ length: 150 }, (_, i) => i + 101));
    expect(readAllKept(ob, 'event', 1e9, 252)).toEqual([251, 252, 253]);
    expect(readAllKept(ob, 'telemetry', 1e9, 252)).toEqual([]);
    ob.close();
  });

  it('survives a restart', () => {
    let ob = open();
    ob.append('telemetry', readings(120));
    drain(ob, T0);
    ob.close();
    ob = open();
    expect(ob.stats(T0).keptReadings).toBe(120);
    expect(readAllKept(ob, 'telemetry', 1e9)).toHaveLength(120);
    // Seqs continue after the kept rows, never reused.
    ob.append('telemetry', readings(1));
    expect(ob.claim('telemetry', 10, 1e9)!.firstSeq).toBeGreaterThan(120);
    ob.close();
  });

  it('reports what of a range is held neither pending nor kept', () => {
    const ob = open();
    ob.append('telemetry', readings(300)); // rows 1-100, 101-200, 201-300
    const first = ob.claim('telemetry', 100, 1e9)!;
    ob.ack(first, T0); // 1-100 kept, 101-300 pending
    expect(ob.notHeld({ fromSeq: 1, toSeq: 300 })).toEqual([]);
    expect(ob.notHeld({ fromSeq: 250, toSeq: 400 })).toEqual([{ fromSeq: 301, toSeq: 400 }]);
    // Past the age bound: forgotten by the retention pass, and not declared as a drop.
    expect(ob.enforceRetention(T0 + 11 * MIN)).toEqual([]);
    expect(ob.notHeld({ fromSeq: 1, toSeq: 300 })).toEqual([{ fromSeq: 1, toSeq: 100 }]);
    expect(ob.stats(T0).droppedReadings).toBe(0);
    ob.close();
  });

  it('forgets the oldest kept rows past keepAckedMaxBytes, and nothing pending', () => {
    const ob = open({ keepAcked: { maxAgeMs: 10 * MIN, maxBytes: 1 } });
    ob.append('telemetry', readings(300));
    ob.ack(ob.claim('telemetry', 100, 1e9)!, T0);
    ob.enforceRetention(T0);
    expect(ob.stats(T0).keptReadings).toBe(0);
    expect(ob.stats(T0).pendingReadings).toBe(200);
    ob.close();
  });

  it('counts kept rows against retention.maxBytes and drops them before any pending row', () => {
    const ob = open();
    ob.append('telemetry', readings(300));
    ob.ack(ob.claim('telemetry', 200, 1e9)!, T0); // 200 kept, 100 pending
    const { pendingBytes, keptBytes } = ob.stats(T0);
    ob.setRetention({ maxBytes: pendingBytes + keptBytes! - 1, maxAgeMs: 86400e3 });
    expect(ob.enforceRetention(T0)).toEqual([]);
    const s = ob.stats(T0);
    expect([s.pendingReadings, s.keptReadings]).toEqual([100, 100]);
    ob.setRetention({ maxBytes: pendingBytes, maxAgeMs: 86400e3 });
    expect(ob.enforceRetention(T0)).toEqual([]);
    expect([ob.stats(T0).pendingReadings, ob.stats(T0).keptReadings]).toEqual([100, 0]);
    ob.close();
  });

  it('gives up kept rows when the file is full rather than refusing new readings', () => {
    const ob = open({ maxFileBytes: 256 * 1024, rowMaxReadings: 500 });
    let committed = 0;
    for (;;) {
      try {
        ob.append('telemetry', readings(500));
        committed += 500;
      } catch {
        break;
      }
    }
    drain(ob, T0);
    const refusedBefore = ob.stats(T0).refusedReadings;
    expect(ob.stats(T0).keptReadings).toBeGreaterThan(0);
    // Refill: the kept rows make room instead of new readings being refused.
    let refilled = 0;
    while (ob.stats(T0).keptReadings! > 0 && refilled <= 2 * committed) {
      ob.append('telemetry', readings(500));
      refilled += 500;
    }
    const s = ob.stats(T0);
    expect([s.pendingReadings, s.keptReadings, s.refusedReadings]).toEqual([refilled, 0, refusedBefore]);
    ob.close();
  });

  it('keeps nothing when keepAcked is off', () => {
    const ob = open({ keepAcked: { maxAgeMs: 0, maxBytes: 32e6 } });
    ob.append('telemetry', readings(100));
    drain(ob, T0);
    expect(ob.stats(T0).keptReadings).toBe(0);
    expect(ob.notHeld({ fromSeq: 1, toSeq: 100 })).toEqual([{ fromSeq: 1, toSeq: 100 }]);
    ob.close();
  });
});

describe('uncovered', () => {
  it('subtracts runs from a range', () => {
    const r = { fromSeq: 10, toSeq: 50 };
    expect(uncovered(r, [])).toEqual([r]);
    expect(uncovered(r, [{ first_seq: 1, count: 100 }])).toEqual([]);
    expect(uncovered(r, [{ first_seq: 30, count: 5 }, { first_seq: 5, count: 10 }])).toEqual([
      { fromSeq: 15, toSeq: 29 },
      { fromSeq: 35, toSeq: 50 },
    ]);
  });
});
