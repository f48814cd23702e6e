import type pg from 'pg';
import type { Logger } from 'pino';
import type { BatchPayload } from './payload.js';

/**
 * Asking gateways for what the broker lost (docs/ingest.md): a gap that stays open (seqs neither
 * received nor declared, between seqs that were) is asked for on the gateway's command topic as
 * a replay request (docs/commands.md, "Replay"). The gateway re-sends what it still keeps, marked
 * `replay: true` (stored like any batch; the (outbox, seq) key ignores what is already there),
 * and answers with a `command` event whose `unavailable` ranges it no longer holds: those are
 * recorded as lost (declared_ranges, reason `replay:unavailable`), which closes the gap.
 *
 * Bounded: a gap is asked for only once it has stayed open `minGapAgeMs` (events and telemetry
 * travel on different topics, so a gap of a few seqs in flight is normal), at most `maxPerPass`
 * requests per pass, again only after `retryAfterMs` without an answer, at most `maxAttempts`
 * times, and each request covers at most REPLAY_MAX_SEQS seqs.
 */
export const REPLAY_MAX_SEQS = 100_000;

export interface GapReplayOptions {
  db: pg.Pool;
  /** Publish a command (QoS 1) for a gateway; false when it cannot be sent now. */
  publish: (gateway: string, payload: string) => boolean;
  clientId: string;
  minGapAgeMs?: number;
  retryAfterMs?: number;
  maxAttempts?: number;
  maxPerPass?: number;
  /** How long a request stays valid at the gateway (its `expiresAt`). */
  expiryMs?: number;
  log: Logger;
  now?: () => number;
}

interface GapState {
  firstSeenMs: number;
  lastAskedMs: number | null;
  attempts: number;
}

interface OpenGap {
  outbox_id: number;
  gateway: string;
  outbox: string;
  from_seq: string;
  to_seq: string;
}

/** Gaps between received seqs of each outbox, as the `gaps` view sees them, with the outbox's id. */
const OPEN_GAPS = `SELECT o.id AS outbox_id, g.gateway, g.outbox, g.from_seq, g.to_seq FROM gaps g JOIN outboxes o ON o.gateway = g.gateway AND o.outbox = g.outbox ORDER BY o.id, g.from_seq`;

export class GapReplay {
  private readonly gaps = new Map<string, GapState>();
  private readonly now: () => number;
  private counter = 0;
  readonly counters = { requested: 0, answered: 0, unavailableSeqs: 0 };

  constructor(private readonly opts: GapReplayOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** One pass: ask for the gaps that qualify. */
  async pass(): Promise<void> {
    const now = this.now();
    const open = (await this.opts.db.query<OpenGap>(OPEN_GAPS)).rows;
    const seen = new Set<string>();
    let sent = 0;
    for (const g of open) {
      const from = Number(g.from_seq);
      const to = Number(g.to_seq);
      for (let a = from; a <= to; a += REPLAY_MAX_SEQS) {
        const b = Math.min(to, a + REPLAY_MAX_SEQS - 1);
        const key = `${g.outbox_id}:${a}:${b}`;
        seen.add(key);
        let state = this.gaps.get(key);
        if (!state) this.gaps.set(key, (state = { firstSeenMs: now, lastAskedMs: null, attempts: 0 }));
        if (sent >= (this.opts.maxPerPass ?? 10)) continue;
        if (now - state.firstSeenMs < (this.opts.minGapAgeMs ?? 5_000)) continue;
        if (state.attempts >= (this.opts.maxAttempts ?? 3)) continue;
        if (state.lastAskedMs !== null && now - state.lastAskedMs < (this.opts.retryAfterMs ?? 60_000)) continue;
        if (await this.ask(g, a, b, now)) {
          state.lastAskedMs = now;
          state.attempts++;
          sent++;
        }
      }
    }
    // A gap that closed (filled, or declared) is forgotten.
    for (const key of this.gaps.keys()) if (!seen.has(key)) this.gaps.delete(key);
  }

  private async ask(g: OpenGap, fromSeq: number, toSeq: number, now: number): Promise<boolean> {
    const id = `replay-${this.opts.clientId}-${now.toString(36)}-${++this.counter}`;
    const message = { v: 1, id, device: '_gateway', action: 'replay', fromSeq, toSeq, outbox: g.outbox, expiresAt: now + (this.opts.expiryMs ?? 60_000), issuedAt: now };
    if (!this.opts.publish(g.gateway, JSON.stringify(message))) return false;
    await this.opts.db.query('INSERT INTO replay_requests (command_id, outbox_id, from_seq, to_seq) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [id, g.outbox_id, fromSeq, toSeq]);
    this.counters.requested++;
    this.opts.log.info({ gateway: g.gateway, outbox: g.outbox, fromSeq, toSeq, id }, 'asked the gateway to replay a gap');
    return true;
  }
}

export interface ReplayAnswer {
  id: string;
  outcome: string;
  replayed: number | null;
  unavailable: { from: number; to: number }[];
  unavailableText: string | null;
  reason: string | null;
}

/** The gateway's answers to replay requests in a batch: final `command` events with action replay. */
export function replayAnswersInBatch(batch: BatchPayload): ReplayAnswer[] {
  const out: ReplayAnswer[] = [];
  for (const r of batch.readings) {
    if (r.device !== '_gateway' || r.point !== 'command' || r.attrs?.action !== 'replay') continue;
    if (typeof r.attrs.id !== 'string' || typeof r.value !== 'string' || r.value === 'accepted') continue;
    const text = typeof r.attrs.unavailable === 'string' ? r.attrs.unavailable : null;
    out.push({
      id: r.attrs.id,
      outcome: r.value,
      replayed: typeof r.attrs.replayed === 'number' ? r.attrs.replayed : null,
      unavailable: r.value === 'executed' ? parseRanges(text ?? '') : [],
      unavailableText: text,
      reason: typeof r.attrs.reason === 'string' ? r.attrs.reason : null,
    });
  }
  return out;
}

/** "101-200,301-301" -> ranges; anything malformed is skipped (never recorded as lost). */
export function parseRanges(text: string): { from: number; to: number }[] {
  const out: { from: number; to: number }[] = [];
  for (const part of text.split(',')) {
    const m = /^(\d+)-(\d+)$/.exec(part.trim());
    if (!m) continue;
    const from = Number(m[1]);
    const to = Number(m[2]);
    if (Number.isSafeInteger(from) && Number.isSafeInteger(to) && from >= 1 && from <= to) out.push({ from, to });
  }
  return out;
}

/**
 * Record the answers: the request's outcome, and the unavailable ranges as lost. Only for
 * requests this ingest sent (the id is in replay_requests): a forged answer declares nothing.
 */
export async function storeReplayAnswers(db: pg.Pool, answers: readonly ReplayAnswer[]): Promise<void> {
  for (const a of answers) {
    await db.query(
      `WITH req AS (
         UPDATE replay_requests SET outcome = $2, replayed = $3, unavailable = $4, reason = $5, answered_at = now()
         WHERE command_id = $1 RETURNING outbox_id, from_seq, to_seq
       )
       INSERT INTO declared_ranges (outbox_id, from_seq, to_seq, reason)
       SELECT req.outbox_id, greatest(f, req.from_seq), least(t, req.to_seq), 'replay:unavailable'
       FROM req, unnest($6::bigint[], $7::bigint[]) AS x(f, t)
       WHERE f <= req.to_seq AND t >= req.from_seq
       ON CONFLICT DO NOTHING`,
      [a.id, a.outcome, a.replayed, a.unavailableText, a.reason, a.unavailable.map((u) => u.from), a.unavailable.map((u) => u.to)],
    );
  }
}
