import type Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import type { ClaimedBatch } from '../model/claimed-batch.js';
import type { RowEncoder } from '../model/encoded-row.js';
import { OutboxFullError } from '../model/outbox-full.js';
import { readingCount, type Committable } from '../model/packed-run.js';
import type { Stream } from '../model/stream.js';
import { ACK_FLUSH_MS, ACK_WITH_COMMIT_BYTES, AckQueue, type AckedRange } from './ack-queue.js';
import { claimRows } from './claim.js';
import { isDiskFull, openDatabase, synced } from './database.js';
import { KeptAcked, uncovered, type KeepAckedBounds, type SeqRange } from './kept-acked.js';
import { DiskReserve } from './disk-reserve.js';
import { fsyncDirectory } from './fsync-dir.js';
import { MemoryTail } from './memory-tail.js';
import type { QuarantineReport } from './open.js';
import { Pending } from './pending.js';
import { enforceRetention, type RetentionBounds } from './retention.js';
import { prepareStatements, type ClaimRow, type RowSize, type Statements } from './schema.js';
import { SeqReservation } from './seq-reservation.js';
import { SharedParts } from './shared-parts.js';
import type { DropRecord, OutboxStats, OutboxStore, ReplaySource, SkipRecord } from './store.js';

/**
 * The durable outbox: every reading is committed here, with its gateway-wide sequence number,
 * before anything else happens to it; the forwarder claims the oldest rows, publishes them and,
 * when the broker acknowledges, moves them aside for a bounded while (kept-acked.ts) so a range
 * the broker lost can be re-sent on request (replay), then deletes them. Acknowledgements are
 * applied to SQLite in bulk, with the next commit or within a second (ack-queue.ts), and before
 * anything that reads or resets what they change. Nothing here knows about drivers, MQTT or the wire
 * format: rows arrive encoded by the `encoder` it is given (gateway/payload/) and leave as bytes.
 *
 * Storage shape (schema.ts): one row holds a run of consecutive sequence numbers (one commit's
 * worth of readings of one stream, at most about `rowMaxReadings`). A row per reading would cap
 * the gateway near SQLite's ~700k rows/s; a row per run does not.
 *
 * Two streams, two tables: events (scans, state changes) are claimed ahead of bulk telemetry
 * and are the last thing retention evicts. The sequence is shared, so gaps stay detectable.
 *
 * Claims live in memory only: after a crash every row that was in flight is simply pending
 * again (at-least-once), which makes crash recovery a property of start-up, not a special case.
 * Seqs survive power cuts through a synced reservation (seq-reservation.ts).
 */

export interface OutboxOptions {
  path: string;
  /** `strict` fsyncs every commit (synchronous=FULL); `normal` survives process crashes, and a
   * power cut may lose the last commits but never corrupts (WAL + synchronous=NORMAL): the next
   * start skips the seqs they may have used and declares them (`skipped`). */
  durability: 'normal' | 'strict';
  /** Encodes committed readings into rows (gateway/payload/encode.ts `rowEncoder`). */
  encoder: RowEncoder;
  rowMaxReadings: number;
  retention: RetentionBounds;
  /** How long and how much of what the broker acknowledged is kept for replay (default: none). */
  keepAcked?: KeepAckedBounds;
  /** Optional hard cap on the database file, via SQLite's max_page_count (tests use it to
   * simulate a full disk without mounting a filesystem). */
  maxFileBytes?: number;
  /** Disk space held back so acknowledged rows can always be deleted on a full disk (0 = none). */
  reserveBytes?: number;
  /** Decides whether readings committed now are flagged `clock: unsynced`. */
  clockSynced?: () => boolean;
  /**
   * Serve claims from a copy of the rows just committed while the forwarder keeps up, instead of
   * reading them back from SQLite (default true; false only to compare the two in tests).
   */
  claimFromMemory?: boolean;
}

interface AppendResult {
  nextSeq: number;
  rows: number;
  bytes: number;
  /** Copies of the rows written, for the in-memory tail (null: no tail to feed). */
  written: ClaimRow[] | null;
  /** The queued acks applied in the same transaction (null: none were). */
  acked: AppliedAcks | null;
}

/** What applying acks removed from the pending rows, per range. */
type AppliedAcks = { stream: Stream; rows: RowSize[] }[];

export class Outbox implements OutboxStore, ReplaySource {
  readonly quarantine: QuarantineReport | null;
  /** Set when this start skipped seqs after an unclean stop; the daemon announces it. */
  readonly skipped: SkipRecord | null;
  private readonly db: Database.Database;
  private readonly opts: OutboxOptions;
  private readonly stmts: Statements;
  private readonly seqs: SeqReservation;
  private readonly outboxId: string;
  private droppedReadings: number;
  private refusedReadings = 0;
  private readonly pending: Pending;
  private readonly parts: SharedParts;
  private readonly kept: KeptAcked;
  /** Highest first_seq handed out by claim() per stream since the last release(). */
  private readonly claimCursor: Record<Stream, number> = { event: 0, telemetry: 0 };
  private readonly tails: Record<Stream, MemoryTail> = { event: new MemoryTail(), telemetry: new MemoryTail() };
  private readonly appendTx: (stream: Stream, items: readonly Committable[], now: number, reserveTo: number | null, acks: readonly AckedRange[] | null) => AppendResult;
  private closed = false;
  private readonly reserve: DiskReserve;
  /** Acknowledged batches not yet applied to SQLite (see flushAcks). */
  private readonly acks = new AckQueue();
  /** performance.now() of the oldest ack in `acks`. */
  private acksSince = 0;
  private flushTimer: NodeJS.Timeout | null = null;
  /** The last append was refused for space: acks are applied at once, they are what frees it. */
  private lastAppendRefused = false;

  constructor(opts: OutboxOptions) {
    this.opts = opts;
    const { db, quarantine } = openDatabase(opts);
    this.db = db;
    this.quarantine = quarantine;
    const stmts = (this.stmts = prepareStatements(db));
    this.reserve = new DiskReserve(`${opts.path}.reserve`, opts.reserveBytes ?? 0);
    const meta = (key: string): string | undefined => (stmts.getMeta.get(key) as { value: string } | undefined)?.value;
    const existingId = meta('outbox_id');
    this.outboxId = existingId ?? randomUUID();
    const rowsEnd = (s: Stream) => (stmts.maxEndSeq[s].get() as { end: number } | undefined)?.end ?? 1;
    const keptEnd = (stmts.ackedMaxEndSeq.get() as { end: number } | undefined)?.end ?? 1;
    this.seqs = new SeqReservation(stmts, meta, Math.max(rowsEnd('event'), rowsEnd('telemetry'), keptEnd), quarantine);
    this.skipped = this.seqs.skipped;
    this.durablyOpen(existingId === undefined);
    this.droppedReadings = Number(meta('dropped_readings') ?? 0);
    this.pending = new Pending(stmts);
    this.kept = new KeptAcked(stmts, opts.keepAcked ?? { maxAgeMs: 0, maxBytes: 0 });
    this.parts = new SharedParts(stmts, opts.encoder, opts.path);
    this.appendTx = db.transaction((stream: Stream, items: readonly Committable[], now: number, reserveTo: number | null, acks: readonly AckedRange[] | null): AppendResult => {
      const unsynced = this.opts.clockSynced ? !this.opts.clockSynced() : false;
      const insert = this.stmts.insert[stream];
      const written: ClaimRow[] | null = this.tails[stream].complete ? [] : null;
      let bytes = 0;
      let rows = 0;
      const nextSeq = this.opts.encoder.encodeRows(items, this.seqs.next, this.opts.rowMaxReadings, unsynced, (row) => {
        const layouts = this.parts.store(row.parts);
        // Bound as bytes (a BLOB in the TEXT column; claims read bodies as bytes either way).
        insert.run(row.firstSeq, row.count, now, row.body, layouts);
        // The encoder reuses its buffer for the next row: the tail keeps a copy.
        written?.push({ first_seq: row.firstSeq, count: row.count, created_ms: now, body: Buffer.from(row.body), layouts });
        bytes += row.body.length;
        rows++;
      });
      this.seqs.write(nextSeq, reserveTo);
      // Acks ride along: the commit dirties the rows table's leaf anyway, and deleting the acked
      // rows right away keeps that table to a page or two, so the seq counter in row 0 shares it.
      const acked = acks === null ? null : this.applyAcks(acks, this.kept.enabled);
      return { nextSeq, rows, bytes, written, acked };
    });
  }

  /**
   * Everything a run hands out hangs on this synced write: the outbox id, the `running` mark, a
   * fresh seq block and the record of any skipped range. A new file is also checkpointed and its
   * directory synced, so a cut right after can never bring the gateway back under a new id.
   */
  private durablyOpen(isNew: boolean): void {
    const reserveTo = this.seqs.planFor(0, true);
    synced(this.db, this.opts.durability, () =>
      this.db.transaction(() => {
        this.stmts.setMeta.run('outbox_id', this.outboxId);
        this.stmts.setMeta.run('running', '1');
        this.stmts.setMeta.run('running_durability', this.opts.durability);
        this.seqs.write(this.seqs.next, reserveTo);
        const k = this.skipped;
        if (k) {
          this.stmts.insertSkip.run(k.fromSeq, k.toSeq, k.reason, k.ts);
          this.stmts.trimSkips.run();
        }
      })(),
    );
    this.seqs.committed(this.seqs.next, reserveTo);
    if (isNew) {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      fsyncDirectory(dirname(this.opts.path));
    }
  }

  get id(): string {
    return this.outboxId;
  }

  /**
   * Commit readings in one transaction, assigning consecutive sequence numbers.
   * Throws OutboxFullError when the disk (or the page cap) is full: the readings are refused,
   * counted, and nothing already stored is touched. Returns the first sequence number assigned.
   */
  append(stream: Stream, items: readonly Committable[], now = Date.now()): number {
    try {
      try {
        const first = this.appendOnce(stream, items, now, true);
        this.lastAppendRefused = false;
        return first;
      } catch (err) {
        // Delivered readings are the first thing to give way to undelivered ones: the rows of
        // acknowledged batches not yet deleted, then the ones kept for replay.
        if (!(err instanceof OutboxFullError)) throw err;
        const freed = this.flushAcksQuietly();
        if (!this.forgetKept() && !freed) throw err;
        const first = this.appendOnce(stream, items, now, false);
        this.lastAppendRefused = false;
        return first;
      }
    } catch (err) {
      if (err instanceof OutboxFullError) {
        this.refusedReadings += readingCount(items);
        this.lastAppendRefused = true;
      }
      throw err;
    }
  }

  private forgetKept(): boolean {
    try {
      return this.kept.forgetAll();
    } catch {
      // Too full even to delete: nothing changed, the readings are refused as before.
      return false;
    }
  }

  /** `withAcks`: apply the queued acks in the same transaction (not when retrying on a full disk). */
  private appendOnce(stream: Stream, items: readonly Committable[], now: number, withAcks: boolean): number {
    const count = readingCount(items);
    const firstSeq = this.seqs.next;
    if (count === 0) return firstSeq;
    if (!this.reserve.isHeld && !this.reserve.tryRestore()) {
      // The reserve went to draining: new readings would eat the space the acks need.
      if (this.forgetKept() && this.reserve.tryRestore()) return this.appendOnce(stream, items, now, withAcks);
      throw new OutboxFullError(`outbox ${this.opts.path} is full: draining before accepting new readings; refused ${count} readings`);
    }
    try {
      // A commit that would hand out seqs beyond the reserved block reserves the next one in the
      // same transaction, fsynced: no seq of it can be published before the reservation is durable.
      const reserveTo = this.seqs.planFor(count);
      const acks = withAcks && this.acks.bytes >= ACK_WITH_COMMIT_BYTES ? this.acks.all : null;
      const done = reserveTo === null ? this.appendTx(stream, items, now, null, acks) : synced(this.db, this.opts.durability, () => this.appendTx(stream, items, now, reserveTo, acks));
      // Only once COMMIT succeeded: a commit that fails (e.g. ENOSPC at COMMIT) rolls back, and
      // counters or the sequence moved inside the transaction body would then be wrong.
      if (done.written !== null) this.tails[stream].add(done.written);
      this.seqs.committed(done.nextSeq, reserveTo);
      this.pending.added(stream, count, done.rows, done.bytes);
      if (done.acked !== null) this.ackApplied(done.acked, this.kept.enabled);
      return firstSeq;
    } catch (err) {
      if (isDiskFull(err)) {
        throw new OutboxFullError(`outbox ${this.opts.path} is full (${(err as Error).message}): refused ${count} readings`, { cause: err });
      }
      throw err;
    }
  }

  /**
   * The oldest unclaimed rows of a stream, at least one row, within the given bounds (claim.ts),
   * served from the in-memory tail when it holds every unclaimed row, else from SQLite.
   */
  claim(stream: Stream, maxReadings: number, maxBytes: number, holdMs = 0, now = Date.now()): ClaimedBatch | null {
    const bounds = { maxReadings, maxBytes, holdMs, now };
    const tail = this.tails[stream];
    if (tail.complete) {
      const claimed = claimRows(stream, tail.rows, tail.head, bounds, this.parts);
      if (claimed === null) return null;
      tail.take(claimed.taken);
      this.claimCursor[stream] = claimed.batch.toKey;
      return claimed.batch;
    }
    const rows = this.stmts.claim[stream].iterate(this.claimCursor[stream]) as IterableIterator<ClaimRow>;
    const claimed = claimRows(stream, rows, 0, bounds, this.parts);
    if (claimed !== null) {
      this.claimCursor[stream] = claimed.batch.toKey;
      return claimed.batch;
    }
    // Nothing unclaimed is left in SQLite: from here on, every unclaimed row is one committed next.
    if (this.stmts.anyAfter[stream].get(this.claimCursor[stream]) === undefined && this.opts.claimFromMemory !== false) tail.start();
    return null;
  }

  /**
   * The broker has the batch: its rows go to the kept ones (or are deleted when nothing is kept).
   * Recorded in memory and applied with the other queued acks in one transaction: the next
   * commit's when they hold ACK_WITH_COMMIT_BYTES, else flushAcks within ACK_FLUSH_MS; at once
   * while the disk is full, where deletes are what frees space.
   * Its rows are never claimed again meanwhile: the claim cursor and the memory tail are past
   * them, and everything that resets those or reads the tables applies the acks first.
   * Safe to call twice or after retention. Throws only when applying acks failed (a full disk
   * with no reserve left, an I/O error): those rows are then sent again after a release().
   */
  ack(batch: Pick<ClaimedBatch, 'stream' | 'fromKey' | 'toKey'> & { lastSeq?: number; bytes?: number }, now = Date.now()): void {
    if (this.acks.size === 0) this.acksSince = performance.now();
    // Unknown size: as if large (applied with the next commit rather than later).
    this.acks.add(batch.stream, batch.fromKey, batch.toKey, batch.lastSeq, now, batch.bytes ?? ACK_WITH_COMMIT_BYTES);
    const due = performance.now() - this.acksSince >= ACK_FLUSH_MS;
    if (due || this.lastAppendRefused || !this.reserve.isHeld) this.flushAcks();
    else this.flushTimer ??= setTimeout(this.onFlushTimer, ACK_FLUSH_MS).unref();
  }

  private readonly onFlushTimer = (): void => {
    this.flushTimer = null;
    // A failure keeps the acks queued: the next ack finds them overdue, applies them and reports
    // the error to the forwarder, whose reconnect then releases (and re-sends) those rows.
    if (!this.flushAcksQuietly() && this.acks.size > 0 && !this.closed) this.flushTimer = setTimeout(this.onFlushTimer, ACK_FLUSH_MS).unref();
  };

  /**
   * Apply every queued ack in one transaction: per range, copy the rows to the kept ones (when
   * kept) and delete them. On a full disk: without copies, forgetting the kept rows, and last on
   * the disk reserve. Returns whether anything was applied; on failure the acks stay queued.
   */
  private flushAcks(): boolean {
    if (this.flushTimer !== null) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    const ranges = this.acks.all;
    if (ranges.length === 0) return false;
    const apply = (keep: boolean) => () => this.db.transaction(() => this.applyAcks(ranges, keep))();
    const kept = this.kept.enabled;
    let removed = this.tryUnlessFull(apply(kept));
    const copied = kept && removed !== null;
    if (removed === null && kept) {
      // No room for a copy: delivered batches are not worth it. Delete without keeping, and forget
      // the kept rows too, so the pages they free serve what is not delivered yet.
      this.forgetKept();
      removed = this.tryUnlessFull(apply(false));
    }
    if (removed === null) {
      // Still full: give the reserve to SQLite so the delete (a WAL append) can go through.
      if (!this.reserve.release()) throw new OutboxFullError(`outbox ${this.opts.path} is full: ack failed and no reserve is left`);
      try {
        removed = apply(false)();
      } catch (again) {
        throw this.wrapFull(again, 'ack');
      }
    }
    this.ackApplied(removed, copied);
    if (!this.reserve.isHeld) {
      // Draining a full disk: return freed pages to the filesystem and fold the WAL back and
      // truncate it, so what the deletes freed becomes space the reserve (then new readings) can use.
      try {
        this.db.pragma('incremental_vacuum');
        this.db.pragma('wal_checkpoint(TRUNCATE)');
      } catch {
        // Still too full to checkpoint; the next ack tries again.
      }
      this.reserve.tryRestore();
    }
    return true;
  }

  /** Inside a transaction: per range, copy the rows to the kept ones (`keep`) and delete them. */
  private applyAcks(ranges: readonly AckedRange[], keep: boolean): AppliedAcks {
    return ranges.map((r) => {
      if (keep) this.kept.keep(r.stream, r.fromKey, r.toKey, r.ackedMs);
      return { stream: r.stream, rows: this.stmts.ack[r.stream].all(r.fromKey, r.toKey) as RowSize[] };
    });
  }

  /** After the transaction that applied the queued acks committed. */
  private ackApplied(removed: AppliedAcks, copied: boolean): void {
    this.acks.clear();
    if (this.flushTimer !== null) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    for (const r of removed) {
      this.pending.removed(r.stream, r.rows);
      if (copied) this.kept.kept(r.rows);
    }
  }

  /** flushAcks for callers that carry on either way (the acks stay queued on failure). */
  private flushAcksQuietly(): boolean {
    try {
      return this.flushAcks();
    } catch {
      return false;
    }
  }

  private tryUnlessFull<T>(write: () => T): T | null {
    try {
      return write();
    } catch (err) {
      if (isDiskFull(err)) return null;
      throw err;
    }
  }

  private wrapFull(err: unknown, what: string): Error {
    if (!isDiskFull(err)) return err as Error;
    return new OutboxFullError(`outbox ${this.opts.path} is full: ${what} failed (${(err as Error).message})`, { cause: err });
  }

  /** Whether new readings are accepted; false while a full disk is being drained. */
  get accepting(): boolean {
    return this.reserve.isHeld;
  }

  /** Forget all claims: whatever was in flight is pending again (connection lost, restart). */
  release(): void {
    // Acked rows must be gone before the cursor goes back over them. If they cannot be deleted
    // now, they are pending again like the rest: sent again, a duplicate, never a loss.
    if (!this.flushAcksQuietly()) this.acks.clear();
    this.claimCursor.event = 0;
    this.claimCursor.telemetry = 0;
    // Claimed rows are pending again, and they are not in the tail: read them from SQLite.
    this.tails.event.drop();
    this.tails.telemetry.drop();
  }

  /**
   * Enforce the byte and age bounds (retention.ts); every drop is recorded with its seq range.
   * Kept acknowledged rows count against maxBytes and go first, unrecorded (they were delivered).
   */
  enforceRetention(now = Date.now()): DropRecord[] {
    // An acknowledged row still in the rows table is not pending: dropping it would report a
    // delivered reading as lost. (On failure this throws and nothing is dropped this pass.)
    this.flushAcks();
    this.kept.prune(now, this.pending.bytes, this.opts.retention.maxBytes);
    return enforceRetention(this.db, this.stmts, this.pending, this.opts.retention, this.droppedReadings, now, (stream, drop) => {
      // Dropped rows may still be in the tail, unclaimed: let claims read what SQLite has left.
      this.tails[stream].drop();
      this.droppedReadings += drop.readings;
    });
  }

  /** The next batch of kept (acknowledged) rows of `stream` after `afterKey` overlapping fromSeq..toSeq. */
  readKept(stream: Stream, afterKey: number, fromSeq: number, toSeq: number, maxReadings: number, maxBytes: number): ClaimedBatch | null {
    // A batch acknowledged a moment ago is only kept once its ack is applied.
    this.flushAcks();
    return this.kept.read(stream, afterKey, { fromSeq, toSeq }, maxReadings, maxBytes, this.parts);
  }

  /**
   * The parts of `range` this outbox holds in no form: neither pending (those are still coming)
   * nor kept. Dropped, skipped, kept past their bound, or never handed out.
   */
  notHeld(range: SeqRange): SeqRange[] {
    // An acknowledged row not yet applied still sits with the pending ones: apply the acks, so
    // the answer matches what readKept will find (kept, or gone when nothing is kept).
    this.flushAcksQuietly();
    const runs: { first_seq: number; count: number }[] = [];
    for (const table of ['event', 'telemetry', 'acked'] as const) {
      runs.push(...(this.stmts.runsIn[table].all({ from: range.fromSeq, to: range.toSeq }) as { first_seq: number; count: number }[]));
    }
    return uncovered(range, runs);
  }

  /** The sequence number the next committed reading gets. */
  get nextSequence(): number {
    return this.seqs.next;
  }

  stats(now = Date.now()): OutboxStats {
    // Pending and kept totals move when acks are applied; on failure they show the rows as stored.
    this.flushAcksQuietly();
    const kept = this.kept.stats();
    return {
      ...this.pending.stats(now, { outboxId: this.outboxId, nextSeq: this.seqs.next, droppedReadings: this.droppedReadings, refusedReadings: this.refusedReadings }),
      keptReadings: kept.readings,
      keptBytes: kept.bytes,
    };
  }

  /**
   * The wall clock stepped by `deltaMs` (NTP correcting a box without RTC, a manual set). Rows
   * committed before the step carry timestamps from the old timebase; shift them so retention
   * by age measures how long data has waited, not how far the clock moved.
   */
  shiftAges(deltaMs: number, beforeSeq: number): void {
    this.db.transaction(() => {
      this.stmts.shiftAges.event.run(deltaMs, beforeSeq);
      this.stmts.shiftAges.telemetry.run(deltaMs, beforeSeq);
    })();
    // The tail's copies carry the old ages (claims hold batches by age).
    this.tails.event.drop();
    this.tails.telemetry.drop();
  }

  /** Retention bounds may change on reload; nothing stored is touched until the next pass. */
  setRetention(retention: RetentionBounds): void {
    this.opts.retention = retention;
  }

  /** Count readings refused before they reached the outbox (e.g. the ingest queue overflowed). */
  countRefused(n: number): void {
    this.refusedReadings += n;
  }

  close(): void {
    if (this.closed) return;
    // Unapplied acks would only cost duplicates after the restart, but a clean stop leaves none.
    this.flushAcksQuietly();
    this.closed = true;
    // A clean checkpoint leaves a single file behind, which is friendlier to copy off a box. It
    // also syncs the cleared `running` mark: if it never reaches the disk, the next start merely
    // skips to the reserved block, which is the safe side.
    try {
      try {
        this.stmts.setMeta.run('running', '0');
      } catch {
        // A full disk: the next start treats this stop as unclean and skips, the safe side.
      }
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.close();
    }
  }
}
