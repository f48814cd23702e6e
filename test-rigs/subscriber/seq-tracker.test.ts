import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeqTracker } from './seq-tracker.js';

describe('SeqTracker', () => {
  it('reports a gap, a duplicate and the batch that carried it', () => {
    const t = new SeqTracker();
    t.accept([1, 2, 3], 'boot-1');
    t.accept([7, 8], 'boot-3');
    t.accept([3, 4], 'boot-2');
    expect(t.gaps()).toEqual([[5, 6]]);
    expect(t.duplicates).toBe(1);
    expect(t.duplicateBatches()).toEqual([{ batch: 'boot-2', count: 1 }]);
    expect(t.checkComplete(1, 8)).toMatchObject({ complete: false, missing: [[5, 6]], missingCount: 2 });
    expect(t.checkComplete(1, 4).complete).toBe(true);
  });

  it('does not count seqs the gateway declared dropped as missing', () => {
    const t = new SeqTracker();
    t.accept([1, 2, 9, 10]);
    t.declareDropped([[3, 5]]);
    expect(t.gaps()).toEqual([[6, 8]]);
    expect(t.checkComplete(1, 10)).toMatchObject({ missing: [[6, 8]], dropped: [[3, 5]] });
    t.declareDropped([[6, 8]]);
    expect(t.checkComplete(1, 10).complete).toBe(true);
  });

  it('counts a range the gateway dropped at the very start as known, not as a gap', () => {
    const t = new SeqTracker();
    t.declareDropped([[1, 100]]);
    t.accept([101, 102]);
    expect(t.gaps()).toEqual([]);
    expect(t.checkComplete(1, 102).complete).toBe(true);
  });

  it('reports everything missing beyond what arrived when asked about a wider window', () => {
    const t = new SeqTracker();
    t.accept([10, 11]);
    expect(t.checkComplete(1, 12).missing).toEqual([[1, 9], [12, 12]]);
    expect(new SeqTracker().gaps()).toEqual([]);
  });

  it('tells a reused seq (same seq, different content) from an at-least-once duplicate (same content)', () => {
    const t = new SeqTracker();
    const r = (seq: number, value: number, ts = 1000) => ({ seq, device: 'dev0', point: 'r0', value, quality: 'good', ts });
    expect(t.acceptReadings([r(1, 10), r(2, 11), r(3, 12)], 'first')).toBe(0);
    // The same batch again after a reconnect: duplicates, not reuse.
    expect(t.acceptReadings([r(2, 11), r(3, 12)], 'resent')).toBe(2);
    // After a power cut the gateway numbered new readings 3 and 4: seq 3 now means something else.
    expect(t.acceptReadings([r(3, 99, 2000), r(4, 13, 2000)], 'after-cut')).toBe(0);
    expect(t.duplicates).toBe(2);
    expect(t.reused).toBe(1);
    expect(t.reusedSeqs()).toEqual([{ seq: 3, batch: 'after-cut' }]);
    expect(t.duplicateBatches()).toEqual([{ batch: 'resent', count: 2 }]);
    expect(t.summary()).toMatchObject({ received: 4, duplicates: 2, reused: 1 });
    // Any difference counts, not only the value.
    const requalified = { ...r(4, 13, 2000), quality: 'bad' };
    t.acceptReadings([requalified], 'other-quality');
    expect(t.reused).toBe(2);
  });

  it('compares content, not the order fields were written in (a v2 record expands in its own order)', () => {
    const t = new SeqTracker();
    const asV1 = { seq: 1, device: 'd', point: 'p', unit: 'degC', value: 2, quality: 'good', ts: 5, attrs: { a: 1, b: 2 } };
    const reordered = { seq: 1, ts: 5, quality: 'good', value: 2, attrs: { b: 2, a: 1 }, unit: 'degC', point: 'p', device: 'd', clock: undefined };
    t.acceptReadings([asV1], 'v1');
    t.acceptReadings([reordered], 'v2');
    expect(t.summary()).toMatchObject({ duplicates: 1, reused: 0 });
    // An absent unit and a unit are different content.
    const { unit: _unit, ...withoutUnit } = asV1;
    t.acceptReadings([withoutUnit], 'no-unit');
    expect(t.reused).toBe(1);
  });

  it('any permutation of a range with duplicates leaves no gaps and counts duplicates exactly', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 1, max: 300 }),
        fc.array(fc.nat(), { maxLength: 100 }),
        fc.integer(),
        (first, length, dupPicks, seed) => {
          const seqs = Array.from({ length }, (_, i) => first + i);
          const dups = dupPicks.map((p) => first + (p % length));
          const all = shuffle([...seqs, ...dups], seed);
          const t = new SeqTracker();
          // Arbitrary batch boundaries: chunks of 1..7 seqs.
          for (let i = 0, b = 0; i < all.length; b++) {
            const size = 1 + (Math.abs(seed + b) % 7);
            t.accept(all.slice(i, i + size), `b-${b}`);
            i += size;
          }
          expect(t.gaps()).toEqual([]);
          expect(t.duplicates).toBe(dups.length);
          expect(t.receivedCount).toBe(length);
          expect(t.duplicateBatches().reduce((n, d) => n + d.count, 0)).toBe(dups.length);
          expect(t.checkComplete(first, first + length - 1).complete).toBe(true);
        },
      ),
    );
  });

  it('reports exactly the seqs removed from a range, whatever the order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 300 }),
        fc.uniqueArray(fc.nat(), { maxLength: 50 }),
        fc.integer(),
        (length, removePicks, seed) => {
          const removed = new Set(removePicks.map((p) => 1 + (p % length)));
          // Keep both ends so "between lowest and highest" spans the whole range.
          removed.delete(1);
          removed.delete(length);
          const kept = shuffle(Array.from({ length }, (_, i) => i + 1).filter((s) => !removed.has(s)), seed);
          const t = new SeqTracker();
          t.accept(kept);
          const reported = t.gaps().flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, i) => a + i));
          expect(reported).toEqual([...removed].sort((a, b) => a - b));
          expect(t.duplicates).toBe(0);
        },
      ),
    );
  });
});

/** Deterministic Fisher-Yates from fast-check's seed, so a failure replays exactly. */
function shuffle<T>(items: T[], seed: number): T[] {
  let state = seed >>> 0 || 1;
  for (let i = items.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const j = state % (i + 1);
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}
