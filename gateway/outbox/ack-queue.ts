import type { Stream } from '../model/stream.js';

/**
 * How long acknowledged batches wait in memory before they are applied to SQLite together.
 *
 * Why wait at all: on an SD card the cost of a write is per transaction and per page, not per
 * byte. Applying each PUBACK on its own (copy to `acked`, delete from the rows table) was a
 * transaction per batch, ~20 a second at the intersection load, and in WAL mode each appended a
 * full 4 KiB frame of every page it dirtied, written again at checkpoint: more than the readings
 * themselves. One transaction a second for all of them dirties the same few pages once.
 *
 * What waiting costs: a crash or power cut within this window forgets those acks, so their rows
 * are sent again after the restart (a duplicate, never a loss). Busy streams' acks go out sooner,
 * with the next commit (ACK_WITH_COMMIT_BYTES); the daemon's retention tick (every second) applies
 * whatever is queued too.
 */
export const ACK_FLUSH_MS = 1000;

/**
 * Queued acks whose batches hold at least this many bytes are applied with the next commit, in
 * its transaction, rather than waiting for the flush. The commit writes the rows table's last leaf
 * anyway, and the acked rows' deletes then land on that same leaf. Left in place, a second of busy
 * rows spreads the table over several leaves, and every commit writes two of them (the sequence
 * counter lives in row 0, on the first). Small batches (report by exception, idle points) still
 * share one leaf with the new rows and wait for the flush. Chosen by measurement (WAL frames per
 * commit, keepAcked on): rows of 2 KB 3.6 at 1 KiB, 4.0 at 2 KiB, 4.6 at 4 KiB; rows of 200 B
 * 1.5, against 2.2 when every commit applies the acks and 3.2 with a transaction per ack.
 */
export const ACK_WITH_COMMIT_BYTES = 1024;

/** Acknowledged rows of one stream, keys `fromKey..toKey` (first_seq of the first and last row). */
export interface AckedRange {
  stream: Stream;
  fromKey: number;
  toKey: number;
  /** Last seq of the last row, when the acker knew it: lets the next batch merge into this range. */
  lastSeq: number | undefined;
  /** When the first batch of the range was acknowledged (kept rows age from it). */
  ackedMs: number;
}

/**
 * Batches the broker acknowledged that are not yet applied to SQLite, in ack order, merged into
 * as few key ranges as the keys allow. Knows nothing of SQLite: the outbox applies them.
 */
export class AckQueue {
  private ranges: AckedRange[] = [];
  private queuedBytes = 0;

  get size(): number {
    return this.ranges.length;
  }

  /** Bytes of the batches queued (as claimed: bodies and the shared parts they carried). */
  get bytes(): number {
    return this.queuedBytes;
  }

  /**
   * A batch merges into the last range of its stream when it starts at the seq right after that
   * range's last one (no row of any stream can lie between them), or overlaps it (acked twice).
   */
  add(stream: Stream, fromKey: number, toKey: number, lastSeq: number | undefined, ackedMs: number, bytes: number): void {
    this.queuedBytes += bytes;
    for (let i = this.ranges.length - 1; i >= 0; i--) {
      const r = this.ranges[i]!;
      if (r.stream !== stream) continue;
      const follows = r.lastSeq !== undefined && fromKey === r.lastSeq + 1;
      const overlaps = fromKey >= r.fromKey && fromKey <= r.toKey;
      if (follows || overlaps) {
        if (toKey > r.toKey) {
          r.toKey = toKey;
          r.lastSeq = lastSeq;
        }
        return;
      }
      break;
    }
    this.ranges.push({ stream, fromKey, toKey, lastSeq, ackedMs });
  }

  /** The ranges to apply, in ack order; they stay queued until `clear()`. */
  get all(): readonly AckedRange[] {
    return this.ranges;
  }

  /** Applied (or given up on: their rows are pending again and will be sent again). */
  clear(): void {
    this.ranges = [];
    this.queuedBytes = 0;
  }
}
