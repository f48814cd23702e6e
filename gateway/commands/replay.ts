import type { Logger } from 'pino';
import type { ClaimedBatch } from '../model/claimed-batch.js';
import type { Stream } from '../model/stream.js';
import type { ReplaySource } from '../outbox/store.js';
import type { ParsedReplay, ReplayRequest } from './command-message.js';
import type { CommandReport } from './command-runner.js';
import type { CommandJournal, JournalEntry } from './journal.js';
import { TokenBucket } from './rate-limit.js';

/**
 * A replay request (docs/commands.md, "Replay"): re-send the acknowledged readings of a seq range
 * the outbox still keeps (outbox.keepAcked), as batches marked `replay: true`, and say which parts
 * of the range are held no more (`unavailable`). Not a device write: no point, no signature; it
 * shares the journal (so an id is acted on once, across restarts) and the outcome events with
 * device commands. Requests run one at a time, in arrival order; a few may wait.
 */
export interface ReplayHandlerOptions {
  journal: CommandJournal;
  source: ReplaySource & { readonly nextSequence: number };
  /** Publish one batch marked as a replay; resolves on the broker's PUBACK. */
  publish: (batch: ClaimedBatch) => Promise<void>;
  batchMaxReadings: number;
  batchMaxBytes: number;
  maxExpiryAheadMs: number;
  report: (r: CommandReport) => void;
  log: Logger;
  now?: () => number;
}

/** Sustained and burst replay requests per gateway: an ingest asks once per gap, rarely more. */
export const REPLAY_RATE = { perSecond: 1, burst: 10 };
/** Requests accepted and waiting for the one running. */
export const REPLAY_MAX_QUEUED = 16;

const ACTION = 'replay';
const DEVICE = '_gateway';

export class ReplayHandler {
  private readonly now: () => number;
  private readonly bucket = new TokenBucket(REPLAY_RATE.perSecond, REPLAY_RATE.burst);
  private queue: Promise<unknown> = Promise.resolve();
  private queued = 0;

  constructor(private readonly opts: ReplayHandlerOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Never throws: every failure is a reported outcome. */
  async handle(parsed: ParsedReplay): Promise<CommandReport> {
    try {
      return await this.handleParsed(parsed);
    } catch (err) {
      this.opts.log.error({ err }, 'replay handling failed');
      return this.emit({ id: parsed.ok ? parsed.replay.id : parsed.id, action: ACTION, device: DEVICE, outcome: 'failed', reason: `internal: ${(err as Error).message}` });
    }
  }

  private async handleParsed(parsed: ParsedReplay): Promise<CommandReport> {
    const receivedMs = this.now();
    if (!parsed.ok) return this.emit({ id: parsed.id, action: ACTION, device: DEVICE, outcome: 'rejected', reason: parsed.reason });
    const r = parsed.replay;
    const first = this.opts.journal.find(r.id);
    if (first !== undefined) {
      return this.emit({ ...describe(r), outcome: 'duplicate', first: first.outcome, reason: `duplicate: id already received at ${new Date(first.receivedMs).toISOString()}, first outcome ${first.outcome}` });
    }
    if (this.opts.journal.full) return this.emit({ ...describe(r), outcome: 'rejected', reason: 'journal-full: the command journal holds its maximum of ids still inside their expiry window; try later' });
    const refusal = this.check(r, receivedMs);
    if (refusal !== null) {
      this.opts.journal.record(entry(r, receivedMs, refusal.outcome, refusal.reason));
      return this.emit({ ...describe(r), outcome: refusal.outcome, reason: refusal.reason });
    }
    if (!this.opts.journal.record(entry(r, receivedMs, 'pending', null))) return this.emit({ ...describe(r), outcome: 'duplicate', reason: 'duplicate: id recorded concurrently' });
    this.emit({ ...describe(r), outcome: 'accepted' });
    this.queued++;
    const run = this.queue.then(() => this.execute(r, receivedMs)).finally(() => this.queued--);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private check(r: ReplayRequest, now: number): { outcome: 'rejected' | 'expired'; reason: string } | null {
    if (r.outbox !== undefined && r.outbox !== this.opts.source.id) {
      return { outcome: 'rejected', reason: `wrong-outbox: this gateway's outbox is ${this.opts.source.id}, not ${r.outbox}; seqs of another outbox are not held here` };
    }
    const last = this.opts.source.nextSequence - 1;
    if (r.toSeq > last) return { outcome: 'rejected', reason: `out-of-range: toSeq ${r.toSeq} is beyond the last seq handed out (${last})` };
    if (r.expiresAt <= now) return { outcome: 'expired', reason: `expired: expiresAt ${new Date(r.expiresAt).toISOString()} is ${now - r.expiresAt} ms in the past` };
    if (r.expiresAt - now > this.opts.maxExpiryAheadMs) {
      return { outcome: 'rejected', reason: `expiry-too-far: expiresAt is ${r.expiresAt - now} ms ahead; at most ${this.opts.maxExpiryAheadMs} ms (commands.maxExpiryAhead) is accepted` };
    }
    if (this.queued >= REPLAY_MAX_QUEUED) return { outcome: 'rejected', reason: `busy: ${REPLAY_MAX_QUEUED} replays are already waiting` };
    if (!this.bucket.take(now)) return { outcome: 'rejected', reason: `rate-limited: more than ${REPLAY_RATE.perSecond} replay requests/s (burst ${REPLAY_RATE.burst})` };
    return null;
  }

  private async execute(r: ReplayRequest, receivedMs: number): Promise<CommandReport> {
    const startMs = this.now();
    if (r.expiresAt <= startMs) return this.finish(r, receivedMs, 'expired', { reason: `expired: waited ${startMs - receivedMs} ms behind other replays` });
    const range = { fromSeq: r.fromSeq, toSeq: r.toSeq };
    // Judged before sending: a kept row pruned while we send is then re-sent or reported, never neither.
    const unavailable = this.opts.source.notHeld(range);
    let readings = 0;
    let batches = 0;
    try {
      for (const stream of ['event', 'telemetry'] as Stream[]) {
        let afterKey = 0;
        for (;;) {
          const batch = this.opts.source.readKept(stream, afterKey, r.fromSeq, r.toSeq, this.opts.batchMaxReadings, this.opts.batchMaxBytes);
          if (batch === null) break;
          afterKey = batch.toKey;
          await this.opts.publish(batch);
          readings += batch.count;
          batches++;
        }
      }
    } catch (err) {
      return this.finish(r, receivedMs, 'failed', { reason: `publish-failed: ${(err as Error).message}`, replayed: readings, batches, unavailable: formatRanges(unavailable) });
    }
    this.opts.log.info({ id: r.id, fromSeq: r.fromSeq, toSeq: r.toSeq, replayed: readings, batches, unavailable }, 'replayed acknowledged readings');
    return this.finish(r, receivedMs, 'executed', { replayed: readings, batches, unavailable: formatRanges(unavailable) });
  }

  private finish(r: ReplayRequest, receivedMs: number, outcome: 'executed' | 'failed' | 'expired', extra: Partial<CommandReport>): CommandReport {
    const now = this.now();
    const { reason, ...detail } = extra;
    this.opts.journal.finish(r.id, outcome, reason ?? null, now, JSON.stringify(detail));
    return this.emit({ ...describe(r), outcome, ...extra, latencyMs: now - receivedMs });
  }

  private emit(r: CommandReport): CommandReport {
    try {
      this.opts.report(r);
    } catch (err) {
      this.opts.log.error({ err, id: r.id }, 'reporting a replay outcome failed');
    }
    return r;
  }

  /** Resolves when the replays already accepted have their outcome. */
  async settle(): Promise<void> {
    await this.queue;
  }
}

/** Ranges as event attributes are flat: "101-200,301-301" ("" when none). */
export function formatRanges(ranges: readonly { fromSeq: number; toSeq: number }[]): string {
  return ranges.map((g) => `${g.fromSeq}-${g.toSeq}`).join(',');
}

function describe(r: ReplayRequest): Omit<CommandReport, 'outcome'> {
  return { id: r.id, device: DEVICE, action: ACTION, source: r.source, fromSeq: r.fromSeq, toSeq: r.toSeq };
}

function entry(r: ReplayRequest, receivedMs: number, outcome: JournalEntry['outcome'], reason: string | null): JournalEntry {
  return {
    id: r.id,
    receivedMs,
    source: r.source,
    device: DEVICE,
    point: '',
    action: ACTION,
    request: JSON.stringify({ fromSeq: r.fromSeq, toSeq: r.toSeq }),
    expiresAt: r.expiresAt,
    outcome,
    reason,
    finishedMs: outcome === 'pending' ? null : receivedMs,
    detail: null,
  };
}
