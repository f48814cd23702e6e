import type { ClaimedBatch } from '../model/claimed-batch.js';
import type { Stream } from '../model/stream.js';
import { claimRows } from './claim.js';
import type { ClaimRow, RowSize, Statements } from './schema.js';
import type { SharedParts } from './shared-parts.js';

/**
 * Rows the broker acknowledged, kept a bounded while (the `acked` table) so that a seq range the
 * broker lost after its PUBACK (a broker killed without persistence, before its subscriber took
 * the messages) can be re-sent on request. They were delivered: dropping them is never a loss,
 * so they go first whenever the outbox needs room, and they are never declared as drops.
 *
 * Bounds: `maxAgeMs` since the ack, `maxBytes` of their own, and together with the pending rows
 * the outbox's retention.maxBytes; a full file (maxFileBytes, a full disk) forgets all of them.
 */
export interface KeepAckedBounds {
  /** 0 = keep nothing: acknowledged rows are deleted at once. */
  maxAgeMs: number;
  maxBytes: number;
}

export interface SeqRange {
  fromSeq: number;
  toSeq: number;
}

interface Totals {
  rows: number;
  readings: number;
  bytes: number;
}

export class KeptAcked {
  private readonly totals: Totals;

  constructor(
    private readonly stmts: Statements,
    private readonly bounds: KeepAckedBounds,
  ) {
    this.totals = { ...(stmts.ackedTotals.get() as Totals) };
  }

  get enabled(): boolean {
    return this.bounds.maxAgeMs > 0 && this.bounds.maxBytes > 0;
  }

  get bytes(): number {
    return this.totals.bytes;
  }

  stats(): Totals {
    return { ...this.totals };
  }

  /** Inside the ack's transaction, before the pending rows are deleted: copy them here. */
  keep(stream: Stream, fromKey: number, toKey: number, now: number): void {
    this.stmts.keepAcked[stream].run(now, fromKey, toKey);
  }

  /** After the ack's transaction committed: what it kept. */
  kept(rows: readonly RowSize[]): void {
    for (const r of rows) {
      this.totals.rows++;
      this.totals.readings += r.count;
      this.totals.bytes += r.bytes;
    }
  }

  /**
   * Forget the oldest kept rows past their age, past their own byte bound, and while the outbox
   * as a whole (`pendingBytes` plus these) is over `outboxMaxBytes`. Oldest by seq: acks arrive
   * nearly in seq order, and reading the head of the primary key costs no scan of the table.
   */
  prune(now: number, pendingBytes: number, outboxMaxBytes: number): void {
    for (;;) {
      const over = Math.max(this.totals.bytes - this.bounds.maxBytes, pendingBytes + this.totals.bytes - outboxMaxBytes);
      const rows = this.stmts.ackedOldestRows.all() as { first_seq: number; count: number; bytes: number; acked_ms: number }[];
      let cut: number | null = null;
      let freed = 0;
      for (const row of rows) {
        if (now - row.acked_ms <= this.bounds.maxAgeMs && freed >= over) break;
        cut = row.first_seq;
        freed += row.bytes;
      }
      if (cut === null) return;
      this.forgot(this.stmts.ackedDeleteUpTo.all(cut) as RowSize[]);
    }
  }

  /** Make room for readings not yet delivered (a full file or disk): forget every kept row. */
  forgetAll(): boolean {
    if (this.totals.rows === 0) return false;
    this.stmts.ackedDeleteAll.run();
    this.totals.rows = this.totals.readings = this.totals.bytes = 0;
    return true;
  }

  private forgot(rows: readonly RowSize[]): void {
    for (const r of rows) {
      this.totals.rows--;
      this.totals.readings -= r.count;
      this.totals.bytes -= r.bytes;
    }
  }

  /**
   * The next batch of kept rows of `stream` after key `afterKey` that overlap `range`, within the
   * claim bounds; null when there is none. Rows are whole runs, so a batch may hold seqs on
   * either side of the range asked for.
   */
  read(stream: Stream, afterKey: number, range: SeqRange, maxReadings: number, maxBytes: number, parts: SharedParts): ClaimedBatch | null {
    const rows = this.stmts.ackedRead.iterate({ stream, after: afterKey, from: range.fromSeq, to: range.toSeq }) as IterableIterator<ClaimRow>;
    return claimRows(stream, rows, 0, { maxReadings, maxBytes, holdMs: 0, now: 0 }, parts)?.batch ?? null;
  }
}

/** The parts of `range` that no run in `runs` covers, in order. */
export function uncovered(range: SeqRange, runs: readonly { first_seq: number; count: number }[]): SeqRange[] {
  const sorted = [...runs].sort((a, b) => a.first_seq - b.first_seq);
  const out: SeqRange[] = [];
  let next = range.fromSeq;
  for (const r of sorted) {
    const end = r.first_seq + r.count - 1;
    if (end < next) continue;
    if (r.first_seq > range.toSeq) break;
    if (r.first_seq > next) out.push({ fromSeq: next, toSeq: r.first_seq - 1 });
    next = end + 1;
    if (next > range.toSeq) return out;
  }
  if (next <= range.toSeq) out.push({ fromSeq: next, toSeq: range.toSeq });
  return out;
}
