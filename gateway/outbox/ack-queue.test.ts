import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runWriterUntilDone } from '../../test-rigs/power-cut-fs/writer-child.js';
import { openTestOutbox } from '../../test-rigs/outbox-fixture.js';
import type { ClaimedBatch } from '../model/claimed-batch.js';
import type { Reading } from '../model/reading.js';
import { AckQueue } from './ack-queue.js';
import { pendingReadings } from './inspect.js';
import type { Outbox, OutboxOptions } from './outbox.js';

/**
 * Acks are applied to SQLite in bulk (ack-queue.ts): these pin that they are, and that nothing
 * can see the difference, neither claims, release, retention, replay, stats nor a clean stop,
 * and that a crash before they are applied costs duplicates, never readings.
 */
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ack-queue-test-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const T0 = 1_700_000_000_000;
const KEEP = { keepAcked: { maxAgeMs: 600_000, maxBytes: 32e6 } };
const open = (extra: Partial<OutboxOptions> = {}): Outbox => openTestOutbox(dir, extra);
const walBytes = (): number => statSync(join(dir, 'outbox.db-wal')).size;

function readings(n: number): Reading[] {
  return Array.from({ length: n }, (_, i) => ({ device: 'dev', point: 'p', value: i, quality: 'good' as const, ts: T0 + i }));
}

function seqsOf(batch: ClaimedBatch): number[] {
  return (JSON.parse(`[${batch.bodies.map((b) => b.toString('utf8')).join(',')}]`) as { seq: number }[]).map((r) => r.seq);
}

/** One row per commit, one batch per row. */
function commitAndClaim(ob: Outbox, batches: number, now = T0): ClaimedBatch[] {
  for (let i = 0; i < batches; i++) ob.append('telemetry', readings(10), now);
  return Array.from({ length: batches }, () => ob.claim('telemetry', 10, 1e9)!);
}

describe('acks applied in bulk', () => {
  it('twenty acks write nothing until they are applied, then one transaction for all of them', () => {
    const ob = open(KEEP);
    const batches = commitAndClaim(ob, 20);
    const before = walBytes();
    for (const b of batches) ob.ack(b, T0);
    // Applied one by one, each ack was a transaction appending at least one 4 KiB page to the WAL.
    expect(walBytes()).toBe(before);
    const s = ob.stats(T0); // applies them
    expect([s.pendingReadings, s.keptReadings]).toEqual([0, 200]);
    // The copies and deletes of all twenty dirty a dozen pages once; one by one, each ack wrote
    // at least one page frame of its own.
    expect(walBytes() - before).toBeLessThan(20 * (4096 + 24));
    ob.close();
  });

  it('a busy stream\'s acks ride with the next commit; small ones wait for the flush', () => {
    const path = join(dir, 'outbox.db');
    const ob = open();
    for (let i = 0; i < 2; i++) ob.append('telemetry', readings(20)); // rows of ~1.8 KB
    for (let b = ob.claim('telemetry', 20, 1e9); b; b = ob.claim('telemetry', 20, 1e9)) ob.ack(b);
    expect(pendingReadings(path)).toBe(40); // queued, not applied
    ob.append('telemetry', readings(20));
    expect(pendingReadings(path)).toBe(20); // applied in that commit's transaction
    ob.ack(ob.claim('telemetry', 20, 1e9)!);
    ob.append('telemetry', readings(1));
    ob.ack(ob.claim('telemetry', 1, 1e9)!); // 1 reading: well under ACK_WITH_COMMIT_BYTES
    expect(pendingReadings(path)).toBe(1); // the 20 went with the commit of 1
    ob.append('telemetry', readings(1));
    expect(pendingReadings(path)).toBe(2); // the small ack waits
    expect(ob.stats().pendingReadings).toBe(1);
    expect(pendingReadings(path)).toBe(1);
    ob.close();
  });

  it('release right after an ack does not hand the acked batch out again', () => {
    const ob = open();
    expect(ob.claim('telemetry', 10, 1e9)).toBeNull(); // claims now come from the memory tail
    const [a, b] = commitAndClaim(ob, 2);
    ob.ack(a!);
    ob.release();
    const again = ob.claim('telemetry', 100, 1e9)!;
    expect(seqsOf(again)).toEqual(seqsOf(b!));
    ob.close();
  });

  it('retention right after an ack neither drops nor reports the acked rows', () => {
    const ob = open({ retention: { maxBytes: 1e9, maxAgeMs: 1000 } });
    const [a, b] = commitAndClaim(ob, 2);
    ob.ack(a!);
    ob.ack(b!);
    ob.append('telemetry', readings(10), T0); // not delivered: this one is lost to age
    const drops = ob.enforceRetention(T0 + 5000);
    expect(drops.map((d) => [d.fromSeq, d.toSeq, d.readings])).toEqual([[21, 30, 10]]);
    expect(ob.stats(T0 + 5000).droppedReadings).toBe(10);
    ob.close();
  });

  it('replay right after an ack finds the rows', () => {
    const ob = open(KEEP);
    const [a] = commitAndClaim(ob, 1);
    ob.ack(a!, T0);
    expect(seqsOf(ob.readKept('telemetry', 0, 1, 10, 100, 1e9)!)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    ob.close();
  });

  it('a clean stop applies them: the file holds nothing pending', () => {
    const ob = open();
    for (const b of commitAndClaim(ob, 3)) ob.ack(b);
    ob.close();
    expect(pendingReadings(join(dir, 'outbox.db'))).toBe(0);
  });

  it('a crash before they are applied sends those rows again and loses nothing', async () => {
    const path = join(dir, 'outbox.db');
    const built = join(import.meta.dirname, '../../dist/gateway/outbox/outbox.js');
    const encode = join(import.meta.dirname, '../../dist/gateway/payload/encode.js');
    const lines = await runWriterUntilDone(`
      const { Outbox } = await import(${JSON.stringify(built)});
      const { rowEncoder } = await import(${JSON.stringify(encode)});
      const ob = new Outbox({ path: ${JSON.stringify(path)}, durability: 'normal', rowMaxReadings: 100, encoder: rowEncoder(1),
        retention: { maxBytes: 1e9, maxAgeMs: 864e5 } });
      for (let c = 0; c < 3; c++) ob.append('telemetry', Array.from({ length: 10 }, (_, i) => ({ device: 'dev', point: 'p', value: i, quality: 'good', ts: Date.now() })));
      const b = ob.claim('telemetry', 10, 1e9);
      ob.ack(b);
      console.log('acked ' + b.firstSeq + ' ' + b.lastSeq);
      console.log('done');
      // Block the event loop until the kill: the ack's flush timer must not get to run.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000);
    `);
    expect(lines).toEqual(['acked 1 10']);
    const ob = openTestOutbox(dir);
    const seqs: number[] = [];
    for (let b = ob.claim('telemetry', 100, 1e9); b; b = ob.claim('telemetry', 100, 1e9)) seqs.push(...seqsOf(b));
    // The ack never reached the file: its batch is pending again (a duplicate), the rest as committed.
    expect(seqs).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    ob.close();
  });
});

describe('AckQueue', () => {
  it('merges a batch that starts right after the last one, or repeats it; keeps the rest apart', () => {
    const q = new AckQueue();
    q.add('telemetry', 1, 11, 20, T0, 100);
    q.add('telemetry', 21, 31, 40, T0 + 1, 100); // seq-adjacent: no row of any stream in between
    q.add('telemetry', 21, 21, 30, T0 + 2, 100); // acked again
    q.add('event', 41, 41, 41, T0 + 3, 100);
    q.add('telemetry', 50, 50, 60, T0 + 4, 100); // seqs 41..49 between: maybe rows of its own, not acked
    q.add('telemetry', 61, 61, undefined, T0 + 5, 100);
    q.add('telemetry', 70, 70, undefined, T0 + 6, 100); // the last end is unknown: cannot tell
    expect(q.all.map((r) => [r.stream, r.fromKey, r.toKey, r.ackedMs])).toEqual([
      ['telemetry', 1, 31, T0],
      ['event', 41, 41, T0 + 3],
      ['telemetry', 50, 61, T0 + 4],
      ['telemetry', 70, 70, T0 + 6],
    ]);
  });
});
