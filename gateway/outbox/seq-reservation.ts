import type { QuarantineReport } from './open.js';
import type { Statements } from './schema.js';
import type { SkipRecord } from './store.js';

/**
 * Power cuts: with `durability: normal` (WAL + synchronous=NORMAL) the last commits, and the
 * counter with them, can roll back after the forwarder already published them. So seqs are
 * handed out from blocks reserved by a *synced* write (hi/lo): the on-disk `seq_reserved_to` is
 * always above every seq that could have left the box. After an unclean stop the numbering
 * continues above the reserved block and the skipped range is declared (`skipped`), so a seq is
 * never given to two different readings.
 */

/**
 * Seqs reserved per synced write, at least. One extra fsync per block: at the intersection load
 * (1,600 readings/s) one every ~2.5 s. It is also the most an unclean stop skips.
 */
export const SEQ_BLOCK = 4096;
/**
 * At high rates a fixed block would be crossed by every commit (a 50 ms window at 650k values/s
 * holds 32k seqs), turning `normal` into an fsync per commit. A block covers this many commits
 * of the size that crossed it instead: about 1.6 s at the default window.
 */
const COMMITS_PER_BLOCK = 32;

/** Seqs to reserve beyond a commit of `count` readings that crossed the reserved block. */
export function seqBlockFor(count: number): number {
  return Math.max(SEQ_BLOCK, count * COMMITS_PER_BLOCK);
}

/** The sequence counter and its synced reservation; every rule about either lives here. */
export class SeqReservation {
  /** The seq the next committed reading gets. */
  next: number;
  /** Seqs below this are covered by a synced reservation; the next one needs a new block. */
  private reservedTo: number;
  /** Set when this start skipped seqs after an unclean stop. */
  readonly skipped: SkipRecord | null;

  /** Where the counter stands at open, from what the file says (`rowsEnd`: past the last stored seq). */
  constructor(
    private readonly stmts: Statements,
    meta: (key: string) => string | undefined,
    rowsEnd: number,
    quarantine: QuarantineReport | null,
  ) {
    // The stored counter is authoritative; the row scan guards against a meta row lost to a
    // hand-edited or partially restored file. Sequence numbers must never be reused.
    const counterRow = (stmts.getNextSeq.get() as { count: number } | undefined)?.count ?? 1;
    const inherited = quarantine?.inheritedNextSeq ?? 1;
    // `meta.next_seq` is where files written by earlier versions kept the counter.
    this.next = Math.max(Number(meta('next_seq') ?? 1), counterRow, rowsEnd, inherited);
    const reservedTo = Number(meta('seq_reserved_to') ?? 0);
    // `running` is set (synced) at every open and cleared by close(). Still set means the last
    // run died; if it ran `normal`, its last commits may have rolled back after being published.
    const unclean = meta('running') === '1' && meta('running_durability') !== 'strict';
    this.skipped = unclean && reservedTo > this.next ? { fromSeq: this.next, toSeq: reservedTo - 1, reason: 'unclean-stop', ts: Date.now() } : null;
    if (this.skipped) this.next = reservedTo;
    this.reservedTo = Math.max(reservedTo, this.next);
  }

  /**
   * The reservation a commit of `count` readings must write (in its own transaction, synced):
   * null while the commit stays inside the reserved block. At open, `count` 0 always reserves.
   */
  planFor(count: number, opening = false): number | null {
    const end = this.next + count;
    if (!opening && end <= this.reservedTo) return null;
    return Math.max(end + seqBlockFor(count), this.reservedTo);
  }

  /** Inside the transaction: store the counter and, when planned, the new reservation. */
  write(nextSeq: number, reserveTo: number | null): void {
    this.stmts.setNextSeq.run(nextSeq);
    if (reserveTo !== null) this.stmts.setMeta.run('seq_reserved_to', String(reserveTo));
  }

  /** After COMMIT succeeded: a rolled-back commit must move neither. */
  committed(nextSeq: number, reserveTo: number | null): void {
    this.next = nextSeq;
    if (reserveTo !== null) this.reservedTo = reserveTo;
  }
}
