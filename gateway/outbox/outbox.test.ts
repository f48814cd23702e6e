import { mkdtempSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Reading } from '../model/reading.js';
import { OutboxFullError } from '../model/outbox-full.js';
import { Outbox, type OutboxOptions } from './outbox.js';
import { SEQ_BLOCK, seqBlockFor } from './seq-reservation.js';
import { openTestOutbox } from '../../test-rigs/outbox-fixture.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'outbox-test-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const GB = 1e9;
const open = (extra: Partial<OutboxOptions> = {}): Outbox => openTestOutbox(dir, extra);

function readings(n: number, point = 'p', kind?: 'event'): Reading[] {
  return Array.from({ length: n }, (_, i) => ({ device: 'dev', point, value: i, quality: 'good' as const, ts: 1_700_000_000_000 + i, kind }));
}

function seqsOf(bodies: Buffer[]): number[] {
  return (JSON.parse(`[${bodies.map((b) => b.toString('utf8')).join(',')}]`) as { seq: number }[]).map((r) => r.seq);
}

describe('outbox contract', () => {
  it('commit assigns consecutive sequence numbers starting at 1, across rows and calls', () => {
    const ob = open();
    ob.append('telemetry', readings(250));
    ob.append('telemetry', readings(3));
    const batch = ob.claim('telemetry', 10_000, 10e6)!;
    expect(seqsOf(batch.bodies)).toEqual(Array.from({ length: 253 }, (_, i) => i + 1));
    expect([batch.firstSeq, batch.lastSeq, batch.count]).toEqual([1, 253, 253]);
    ob.close();
  });

  it('encodes the documented reading shape', () => {
    const ob = open();
    ob.append('event', [{ device: 'gate-1', point: 'scan', value: 'ABC"1', quality: 'good', ts: 5, unit: 'x', kind: 'event', attrs: { lane: 2 } }]);
    const [r] = JSON.parse(`[${ob.claim('event', 10, 1e6)!.bodies.join(',')}]`);
    expect(r).toEqual({ seq: 1, device: 'gate-1', point: 'scan', unit: 'x', value: 'ABC"1', quality: 'good', ts: 5, kind: 'event', attrs: { lane: 2 } });
    ob.close();
  });

  it('claims respect count and byte bounds but always return at least one row', () => {
    const ob = open();
    ob.append('telemetry', readings(500)); // 5 rows of 100
    const a = ob.claim('telemetry', 250, 10e6)!;
    expect(a.count).toBe(200);
    const b = ob.claim('telemetry', 1, 1)!;
    expect(b.count).toBe(100);
    expect(b.firstSeq).toBe(201);
    ob.close();
  });

  it('claimed rows are not claimed again until released; ack deletes them', () => {
    const ob = open();
    ob.append('telemetry', readings(300));
    const a = ob.claim('telemetry', 100, 10e6)!;
    const b = ob.claim('telemetry', 100, 10e6)!;
    expect(b.firstSeq).toBe(101);
    ob.ack(a);
    ob.release();
    const again = ob.claim('telemetry', 100, 10e6)!;
    expect(again.firstSeq).toBe(101); // b was not acked: pending again, in order
    expect(ob.stats().pendingReadings).toBe(200);
    ob.ack(again);
    ob.ack(again); // acking twice is harmless
    expect(ob.stats().pendingReadings).toBe(100);
    ob.close();
  });

  it('holds a small young batch back for up to holdMs, but never a full or old one', () => {
    const ob = open();
    ob.append('telemetry', readings(10), 1_000);
    expect(ob.claim('telemetry', 100, 1e6, 500, 1_200)).toBeNull(); // 10 of 100, 200 ms old: wait
    expect(ob.claim('telemetry', 10, 1e6, 500, 1_200)!.count).toBe(10); // full: go
    ob.release();
    expect(ob.claim('telemetry', 100, 1e6, 500, 1_600)!.count).toBe(10); // waited long enough: go
    ob.close();
  });

  it('events are a separate stream sharing the sequence', () => {
    const ob = open();
    ob.append('telemetry', readings(2));
    ob.append('event', readings(1, 'scan', 'event'));
    ob.append('telemetry', readings(2));
    expect(seqsOf(ob.claim('event', 10, 1e6)!.bodies)).toEqual([3]);
    expect(seqsOf(ob.claim('telemetry', 10, 1e6)!.bodies)).toEqual([1, 2, 4, 5]);
    ob.close();
  });

  it('crash recovery: in-flight claims are pending again and sequence numbers are never reused', () => {
    const a = open();
    a.append('telemetry', readings(150));
    const claimed = a.claim('telemetry', 1000, 10e6)!;
    a.ack({ ...claimed, toKey: 1 }); // only the first row was acknowledged before the "crash"
    a.stats(); // and the ack applied (acks wait up to ACK_FLUSH_MS; ack-queue.test.ts crashes before)
    // No close(): simulate the process dying with the WAL un-checkpointed.
    const b = open();
    const batch = b.claim('telemetry', 1000, 10e6)!;
    expect(batch.firstSeq).toBe(101);
    b.ack(batch);
    // `normal` cannot tell a crash from a power cut that rolled the counter back: it continues
    // above the reserved block and declares the seqs it skipped.
    expect(b.skipped).toMatchObject({ fromSeq: 151, toSeq: SEQ_BLOCK, reason: 'unclean-stop' });
    expect(b.stats().lastSkips).toMatchObject([{ fromSeq: 151, toSeq: SEQ_BLOCK }]);
    b.append('telemetry', readings(1));
    expect(seqsOf(b.claim('telemetry', 10, 1e6)!.bodies)).toEqual([SEQ_BLOCK + 1]);
    b.close();
    const c = open();
    expect(c.stats().nextSeq).toBe(SEQ_BLOCK + 2); // all rows gone, counter survives in meta
    expect(c.skipped).toBeNull(); // a clean close skips nothing
    c.close();
  });

  it('strict: the counter is synced with every commit, so an unclean stop skips nothing', () => {
    const a = open({ durability: 'strict' });
    a.append('telemetry', readings(150));
    const b = open({ durability: 'strict' });
    expect(b.skipped).toBeNull();
    expect(b.nextSequence).toBe(151);
    b.close();
  });

  it('a commit beyond the reserved block reserves the next one in the same commit', () => {
    const a = open({ rowMaxReadings: 1000 });
    a.append('telemetry', readings(SEQ_BLOCK + 10));
    a.append('telemetry', readings(5));
    const b = open();
    // The reservation that covered SEQ_BLOCK + 10 went with that commit: the skip starts above it.
    // A commit that large reserves more than one block ahead (seqBlockFor), so the next 31 like it need no sync.
    expect(b.skipped).toMatchObject({ fromSeq: SEQ_BLOCK + 16, toSeq: SEQ_BLOCK + 10 + seqBlockFor(SEQ_BLOCK + 10) });
    expect(seqBlockFor(SEQ_BLOCK + 10)).toBe(32 * (SEQ_BLOCK + 10));
    expect(seqBlockFor(10)).toBe(SEQ_BLOCK);
    b.close();
  });

  it('at a high rate reserves ahead for many commits, and an unclean stop still skips only that', () => {
    const a = open({ rowMaxReadings: 1000 });
    for (let i = 0; i < 100; i++) a.append('telemetry', readings(2000));
    const handedOut = a.nextSequence - 1;
    const b = open();
    expect(b.skipped!.fromSeq).toBe(handedOut + 1);
    // Never more than one reservation ahead of what was handed out.
    expect(b.skipped!.toSeq - handedOut).toBeLessThanOrEqual(seqBlockFor(2000));
    expect(b.skipped!.toSeq - handedOut).toBeGreaterThan(0);
    b.close();
  });

  it('retention by bytes drops the oldest telemetry first, keeps events, and records the drop', () => {
    const ob = open({ rowMaxReadings: 10 });
    ob.append('event', readings(5, 'scan', 'event'));
    for (let i = 0; i < 20; i++) ob.append('telemetry', readings(10));
    const before = ob.stats();
    const limit = before.pendingBytes - before.streams.telemetry.pendingBytes / 2;
    ob.setRetention({ maxBytes: limit, maxAgeMs: 86400e3 });
    const drops = ob.enforceRetention();
    const after = ob.stats();
    expect(after.pendingBytes).toBeLessThanOrEqual(limit);
    expect(after.streams.event.pendingReadings).toBe(5);
    expect(drops.length).toBeGreaterThan(0);
    expect(drops[0]!.fromSeq).toBe(6); // the first telemetry seq
    expect(drops.reduce((n, d) => n + d.readings, 0)).toBe(after.droppedReadings);
    expect(after.lastDrops[0]!.reason).toBe('max-bytes');
    // What remains starts right after the dropped range.
    const next = ob.claim('telemetry', 1, 1)!;
    expect(next.firstSeq).toBe(drops[drops.length - 1]!.toSeq + 1);
    ob.close();
    const reopened = open();
    expect(reopened.stats().droppedReadings).toBe(after.droppedReadings); // counted durably
    reopened.close();
  });

  it('retention by age drops rows older than maxAge', () => {
    const ob = open({ retention: { maxBytes: GB, maxAgeMs: 1000 } });
    ob.append('telemetry', readings(10), 1_000);
    ob.append('telemetry', readings(10), 50_000);
    const drops = ob.enforceRetention(50_500);
    expect(drops).toHaveLength(1);
    expect(drops[0]).toMatchObject({ fromSeq: 1, toSeq: 10, readings: 10, reason: 'max-age' });
    expect(ob.stats().pendingReadings).toBe(10);
    ob.close();
  });

  it('a full disk refuses new readings with a clear error and keeps what is stored', () => {
    const ob = open({ maxFileBytes: 200 * 1024, rowMaxReadings: 500 });
    let committed = 0;
    let error: unknown;
    for (let i = 0; i < 200; i++) {
      try {
        ob.append('telemetry', readings(500));
        committed += 500;
      } catch (err) {
        error = err;
        break;
      }
    }
    expect(error).toBeInstanceOf(OutboxFullError);
    expect((error as Error).message).toMatch(/full.*refused 500 readings/);
    expect(ob.stats().refusedReadings).toBe(500);
    expect(ob.stats().pendingReadings).toBe(committed);
    // Draining frees space and commits succeed again.
    const batch = ob.claim('telemetry', 100_000, 100e6)!;
    ob.ack(batch);
    ob.append('telemetry', readings(500));
    expect(ob.stats().pendingReadings).toBe(500);
    expect(seqsOf(ob.claim('telemetry', 1, 1)!.bodies)[0]).toBe(committed + 1); // refused readings never got a seq
    ob.close();
  });

  it('a corrupt database is quarantined, a fresh one created', () => {
    const path = join(dir, 'outbox.db');
    writeFileSync(path, 'this is not a database'.repeat(200));
    const ob = open();
    expect(ob.quarantine).not.toBeNull();
    expect(ob.quarantine!.reason).toMatch(/SQLITE_NOTADB|not a database/i);
    expect(existsSync(ob.quarantine!.movedTo)).toBe(true);
    ob.append('telemetry', readings(1));
    expect(ob.stats().pendingReadings).toBe(1);
    ob.close();
    expect(readdirSync(dir).some((f) => f.includes('.corrupt-'))).toBe(true);
  });
});
