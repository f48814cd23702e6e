import type { ClaimedBatch } from '../model/claimed-batch.js';
import type { Committable } from '../model/packed-run.js';
import type { Stream } from '../model/stream.js';

/**
 * The outbox as its two users see it, so they depend on a contract rather than on SQLite (the
 * MQTT.js store lesson). test-rigs/outbox-contract.ts is the suite every implementation passes;
 * gateway/outbox/outbox.contract.test.ts runs it against the SQLite outbox, once per encoding.
 */

/** What group commit needs: commit a run of readings durably, or count them as refused. */
export interface ReadingSink {
  /**
   * Commits `items` (readings, or packed runs of values a driver decoded straight from its
   * device's answer) in one transaction and returns the seq of the first; throws if refused.
   */
  append(stream: Stream, items: readonly Committable[], now?: number): number;
  /** Readings that could not be committed and so never got a seq (they leave no gap). */
  countRefused(n: number): void;
}

/** What the forwarder needs: the oldest pending readings in order, deleted only on ack. */
export interface BatchSource {
  /** Stable id of this store, carried in payloads so subscribers can tell a fresh outbox. */
  readonly id: string;
  /** The oldest unclaimed readings of a stream, or null when none (or the batch is still filling). */
  claim(stream: Stream, maxReadings: number, maxBytes: number, holdMs?: number, now?: number): ClaimedBatch | null;
  /**
   * The broker has the batch: delete it (a store may apply acks later, in bulk, as long as it
   * never hands the batch out again, and stats count it as gone). `lastSeq` lets a store merge
   * consecutive batches, `bytes` tells it how much the batch holds.
   */
  ack(batch: Pick<ClaimedBatch, 'stream' | 'fromKey' | 'toKey'> & { lastSeq?: number; bytes?: number }): void;
  /** The connection was lost: everything claimed and not acked is pending again, in order. */
  release(): void;
  stats(now?: number): OutboxStats;
}

export type OutboxStore = ReadingSink & BatchSource;

/** What a replay needs: acknowledged rows kept a while, and what of a range is gone for good. */
export interface ReplaySource {
  readonly id: string;
  /** The next batch of kept rows of `stream` after key `afterKey` overlapping seqs fromSeq..toSeq (whole rows). */
  readKept(stream: Stream, afterKey: number, fromSeq: number, toSeq: number, maxReadings: number, maxBytes: number): ClaimedBatch | null;
  /** The parts of a seq range held neither pending nor kept. */
  notHeld(range: { fromSeq: number; toSeq: number }): { fromSeq: number; toSeq: number }[];
}

export interface DropRecord {
  fromSeq: number;
  toSeq: number;
  readings: number;
  stream: Stream;
  reason: 'max-bytes' | 'max-age';
  ts: number;
}

/** Seqs the outbox will never deliver because it restarted above its reserved block. */
export interface SkipRecord {
  fromSeq: number;
  toSeq: number;
  /** `unclean-stop`: the last run ended without closing the outbox (power cut, crash, kill). */
  reason: 'unclean-stop';
  ts: number;
}

export interface StreamStats {
  pendingReadings: number;
  pendingRows: number;
  pendingBytes: number;
  oldestPendingMs: number | null;
}

export interface OutboxStats {
  outboxId: string;
  nextSeq: number;
  pendingReadings: number;
  pendingBytes: number;
  oldestPendingMs: number | null;
  streams: Record<Stream, StreamStats>;
  droppedReadings: number;
  refusedReadings: number;
  /** Acknowledged readings kept for replay (outbox.keepAcked), and their bytes. */
  keptReadings?: number;
  keptBytes?: number;
  lastDrops: DropRecord[];
  lastSkips: SkipRecord[];
}
