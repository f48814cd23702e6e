import { contentFingerprint, FingerprintLog } from './fingerprints.js';
import { RangeSet, type SeqRange } from './range-set.js';

export interface CompletenessReport {
  complete: boolean;
  /** Seqs in `[from, to]` neither received nor declared dropped by the gateway. */
  missing: SeqRange[];
  missingCount: number;
  /** Seqs in `[from, to]` the gateway declared dropped (retention), so not expected. */
  dropped: SeqRange[];
}

export interface TrackerSummary {
  /** Distinct seqs received. */
  received: number;
  /** Readings received again after the first time (QoS 1 redelivery is allowed to do this). */
  duplicates: number;
  /** Seqs that arrived again with *different* content: the gateway numbered two readings alike. */
  reused: number;
  lowest: number | null;
  highest: number | null;
  gaps: SeqRange[];
  missingCount: number;
  droppedByGateway: number;
}

/**
 * Bookkeeping for "did every committed reading arrive exactly once?". Pure: no I/O, no clock.
 *
 * The gateway numbers readings 1, 2, 3... at commit, but events may overtake a telemetry backlog,
 * so arrival order says nothing; only the set of received seqs does.
 */
export class SeqTracker {
  private readonly received = new RangeSet();
  private readonly dropped = new RangeSet();
  private duplicateCount = 0;
  private readonly duplicatesByBatch = new Map<string, number>();
  private readonly contents = new FingerprintLog();
  private reusedCount = 0;
  private readonly reusedSamples: ReusedSeq[] = [];

  /** Records seqs (any order) carried by batch `batchId`; returns how many were duplicates. */
  accept(seqs: Iterable<number>, batchId = '(unknown)'): number {
    let dups = 0;
    // Batches are ascending runs, so feed the range set whole runs, not single seqs.
    let runStart: number | null = null;
    let prev = 0;
    const flush = (): void => {
      if (runStart !== null) dups += this.received.add(runStart, prev);
    };
    for (const seq of seqs) {
      if (runStart !== null && seq === prev + 1) {
        prev = seq;
        continue;
      }
      flush();
      runStart = seq;
      prev = seq;
    }
    flush();
    if (dups > 0) {
      this.duplicateCount += dups;
      this.duplicatesByBatch.set(batchId, (this.duplicatesByBatch.get(batchId) ?? 0) + dups);
    }
    return dups;
  }

  /**
   * Like `accept`, but also compares each reading with what its seq carried the first time: the
   * same content again is a duplicate, different content a reused seq (counted apart, never as a
   * duplicate, because deduplicating it by seq would throw a real reading away).
   */
  acceptReadings(readings: readonly { seq: number }[], batchId = '(unknown)'): number {
    let reusedHere = 0;
    for (const r of readings) {
      if (this.contents.check(r.seq, contentFingerprint(r)) !== 'different') continue;
      reusedHere++;
      if (this.reusedSamples.length < KEEP_REUSED_SAMPLES) this.reusedSamples.push({ seq: r.seq, batch: batchId });
    }
    const repeats = this.accept(
      readings.map((r) => r.seq),
      batchId,
    );
    if (reusedHere > 0) {
      this.reusedCount += reusedHere;
      this.duplicateCount -= reusedHere;
      const left = (this.duplicatesByBatch.get(batchId) ?? 0) - reusedHere;
      if (left > 0) this.duplicatesByBatch.set(batchId, left);
      else this.duplicatesByBatch.delete(batchId);
    }
    return repeats - reusedHere;
  }

  /** Seqs that arrived again carrying different content. */
  get reused(): number {
    return this.reusedCount;
  }

  /** The first few reused seqs and the batch that carried the second content. */
  reusedSeqs(): ReusedSeq[] {
    return [...this.reusedSamples];
  }

  /** Seqs the gateway deliberately discarded (its health message lists them); never counted as gaps. */
  declareDropped(ranges: Iterable<SeqRange>): void {
    for (const [from, to] of ranges) this.dropped.add(from, to);
  }

  get duplicates(): number {
    return this.duplicateCount;
  }

  /** Which batches carried duplicates, and how many each. */
  duplicateBatches(): Array<{ batch: string; count: number }> {
    return [...this.duplicatesByBatch].map(([batch, count]) => ({ batch, count }));
  }

  get receivedCount(): number {
    return this.received.size;
  }

  receivedRanges(): SeqRange[] {
    return this.received.ranges();
  }

  has(seq: number): boolean {
    return this.received.has(seq);
  }

  /** Missing seqs between the lowest seq known (received or dropped) and the highest received. */
  gaps(): SeqRange[] {
    const highest = this.received.max;
    if (highest === null) return [];
    const lowest = Math.min(this.received.min ?? highest, this.dropped.min ?? highest);
    return this.checkComplete(lowest, highest).missing;
  }

  checkComplete(from: number, to: number): CompletenessReport {
    const missing: SeqRange[] = [];
    const dropped: SeqRange[] = [];
    for (const [a, b] of this.received.missingIn(from, to)) {
      const notDropped = this.dropped.missingIn(a, b);
      missing.push(...notDropped);
      dropped.push(...subtract([a, b], notDropped));
    }
    const missingCount = missing.reduce((n, [a, b]) => n + (b - a + 1), 0);
    return { complete: missingCount === 0, missing, missingCount, dropped };
  }

  summary(): TrackerSummary {
    const gaps = this.gaps();
    return {
      received: this.received.size,
      duplicates: this.duplicateCount,
      reused: this.reusedCount,
      lowest: this.received.min,
      highest: this.received.max,
      gaps,
      missingCount: gaps.reduce((n, [a, b]) => n + (b - a + 1), 0),
      droppedByGateway: this.dropped.size,
    };
  }
}

export interface ReusedSeq {
  seq: number;
  batch: string;
}

const KEEP_REUSED_SAMPLES = 20;

/** `[a, b]` minus sorted disjoint `holes` that lie inside it. */
function subtract([a, b]: SeqRange, holes: SeqRange[]): SeqRange[] {
  const out: SeqRange[] = [];
  let cursor = a;
  for (const [h0, h1] of holes) {
    if (h0 > cursor) out.push([cursor, h0 - 1]);
    cursor = h1 + 1;
  }
  if (cursor <= b) out.push([cursor, b]);
  return out;
}
