import type { Logger } from 'pino';
import type { WritablePoint, WriteRequest, WriteResult } from '../../drivers/writable-point.js';
import { WriteRefused } from '../../drivers/writable-point.js';
import { checkCommand } from './checks.js';
import type { Command, ParsedCommand } from './command-message.js';
import type { CommandJournal, JournalEntry, Outcome } from './journal.js';
import { TokenBucket } from './rate-limit.js';
import type { TrustedKey } from './signature.js';

/**
 * Broker (or a technician's verb) -> checks -> journal -> device -> outcome. The order is the
 * safety model of docs/commands.md:
 *   1. an id already in the journal is never acted on again: it is answered `duplicate` with the
 *      first outcome;
 *   2. checks (declared, value, signature, clock, expiry) and rate limits; a refusal is recorded;
 *   3. the id is recorded durably as pending BEFORE the device is touched, `accepted` is reported;
 *   4. expiry is checked again just before the write (a command may have waited for its point);
 *   5. the family writes (its bus queue puts writes ahead of pending polls) and reads back;
 *   6. the outcome is recorded and reported upstream through the outbox.
 * Commands to one point run one at a time, in arrival order.
 */
export interface CommandTargets {
  point(device: string, point: string): WritablePoint | undefined;
  /** The family's own refusal (type conversion, range of the register), before the journal. */
  validate(device: string, point: string, request: WriteRequest): string | null;
  write(device: string, point: string, request: WriteRequest): Promise<WriteResult>;
}

/** Commands accepted and waiting for their device at once, at most. */
export const MAX_IN_FLIGHT = 256;

export type ReportedOutcome = Exclude<Outcome, 'pending'> | 'accepted' | 'duplicate';

export interface CommandReport {
  id: string | null;
  outcome: ReportedOutcome;
  device?: string;
  point?: string;
  action?: string;
  source?: Command['source'];
  reason?: string;
  /** For a duplicate: the outcome of the first command with this id. */
  first?: Outcome;
  readBack?: number | boolean;
  /** From receipt to outcome, ms. */
  latencyMs?: number;
  /** For a replay: the range asked for, readings and batches re-sent, and the ranges no longer held ("a-b,c-d"). */
  fromSeq?: number;
  toSeq?: number;
  replayed?: number;
  batches?: number;
  unavailable?: string;
}

export interface CommandRunnerOptions {
  gatewayId: string;
  journal: CommandJournal;
  targets: CommandTargets;
  keys: readonly TrustedKey[];
  maxExpiryAheadMs: number;
  gatewayRate: { perSecond: number; burst: number };
  clockSynced: () => boolean;
  report: (r: CommandReport) => void;
  log: Logger;
  now?: () => number;
}

export class CommandRunner {
  private readonly now: () => number;
  private readonly gatewayBucket: TokenBucket;
  private readonly lastWriteMs = new Map<string, number>();
  private readonly pointQueues = new Map<string, Promise<unknown>>();
  /** Accepted and not yet finished; bounded so slow devices cannot pile commands up in memory. */
  private inFlight = 0;
  private readonly counters = { received: 0, duplicates: 0, rejected: 0, expired: 0, executed: 0, failed: 0, readbackMismatch: 0, interrupted: 0 };

  constructor(private readonly opts: CommandRunnerOptions) {
    this.now = opts.now ?? Date.now;
    this.gatewayBucket = new TokenBucket(opts.gatewayRate.perSecond, opts.gatewayRate.burst);
  }

  /** At start: report every command a crash or power cut cut off. Never retried. */
  recoverInterrupted(): void {
    for (const e of this.opts.journal.interruptPending(this.now())) {
      this.counters.interrupted++;
      this.opts.log.warn({ id: e.id, device: e.device, point: e.point }, 'command interrupted by a stop before its outcome was known; not retried');
      this.report(e, 'interrupted', e.reason ?? undefined);
    }
  }

  /** Handle one inbound command. Never throws: every failure becomes a reported outcome. */
  async handle(parsed: ParsedCommand): Promise<CommandReport> {
    this.counters.received++;
    try {
      return await this.handleParsed(parsed);
    } catch (err) {
      // A bug past the checks must not take the channel down; the command is reported failed.
      this.opts.log.error({ err }, 'command handling failed');
      const id = parsed.ok ? parsed.command.id : parsed.id;
      return this.emit({ id, outcome: 'failed', reason: `internal: ${(err as Error).message}` });
    }
  }

  private async handleParsed(parsed: ParsedCommand): Promise<CommandReport> {
    const receivedMs = this.now();
    if (!parsed.ok) {
      this.counters.rejected++;
      // Without a readable id there is nothing to key a journal row on: reported and counted only.
      if (parsed.id !== null && this.opts.journal.find(parsed.id) === undefined && !this.opts.journal.full) {
        this.opts.journal.record(malformedEntry(parsed.id, receivedMs, parsed.reason));
      }
      return this.emit({ id: parsed.id, outcome: 'rejected', reason: parsed.reason });
    }
    const c = parsed.command;
    const first = this.opts.journal.find(c.id);
    if (first !== undefined) {
      this.counters.duplicates++;
      return this.emit({ ...describe(c), outcome: 'duplicate', first: first.outcome, reason: `duplicate: id already received at ${new Date(first.receivedMs).toISOString()}, first outcome ${first.outcome}` });
    }
    if (this.opts.journal.full) {
      this.counters.rejected++;
      return this.emit({ ...describe(c), outcome: 'rejected', reason: 'journal-full: the command journal holds its maximum of ids still inside their expiry window; try later' });
    }
    const point = this.opts.targets.point(c.device, c.point);
    const verdict = checkCommand(c, point, {
      gatewayId: this.opts.gatewayId,
      now: receivedMs,
      clockSynced: this.opts.clockSynced(),
      keys: this.opts.keys,
      maxExpiryAheadMs: this.opts.maxExpiryAheadMs,
    });
    if (!verdict.ok) return this.refuse(c, receivedMs, verdict.outcome, verdict.reason);
    const familyRefusal = this.opts.targets.validate(c.device, c.point, verdict.request);
    if (familyRefusal !== null) return this.refuse(c, receivedMs, 'rejected', familyRefusal);
    if (!this.gatewayBucket.take(receivedMs)) return this.refuse(c, receivedMs, 'rejected', `rate-limited: more than ${this.opts.gatewayRate.perSecond} commands/s to this gateway (commands.rate)`);
    if (this.inFlight >= MAX_IN_FLIGHT) return this.refuse(c, receivedMs, 'rejected', `busy: ${MAX_IN_FLIGHT} commands are already waiting for their devices`);
    const key = `${c.device}\u0000${c.point}`;
    const last = this.lastWriteMs.get(key);
    if (last !== undefined && receivedMs - last < point!.policy.minInterval) {
      return this.refuse(c, receivedMs, 'rejected', `rate-limited: point "${c.point}" was written ${receivedMs - last} ms ago; minInterval is ${point!.policy.minInterval} ms`);
    }
    this.lastWriteMs.set(key, receivedMs);

    // Durable before the device is touched: from here a restart finds the id.
    const detail = verdict.signedBy !== null ? JSON.stringify({ signedBy: verdict.signedBy }) : null;
    if (!this.opts.journal.record({ ...entry(c, receivedMs, 'pending', null), detail })) {
      return this.emit({ ...describe(c), outcome: 'duplicate', reason: 'duplicate: id recorded concurrently' });
    }
    this.emit({ ...describe(c), outcome: 'accepted' });
    this.inFlight++;
    return this.serialised(key, () => this.execute(c, verdict.request, receivedMs)).finally(() => this.inFlight--);
  }

  private async execute(c: Command, request: WriteRequest, receivedMs: number): Promise<CommandReport> {
    const startMs = this.now();
    if (c.expiresAt <= startMs) {
      return this.finish(c, receivedMs, 'expired', `expired: waited ${startMs - receivedMs} ms for the point and expired before the write`);
    }
    let result: WriteResult;
    try {
      result = await this.opts.targets.write(c.device, c.point, request);
    } catch (err) {
      const e = err as Error & { code?: string };
      if (err instanceof WriteRefused) return this.finish(c, receivedMs, 'rejected', `${err.code}: ${err.message}`);
      return this.finish(c, receivedMs, 'failed', `${e.code ?? 'WRITE_FAILED'}: ${e.message}`);
    }
    const point = this.opts.targets.point(c.device, c.point);
    if (point?.policy.readBack && request.action === 'write' && result.readBack !== undefined) {
      const expected = result.expected ?? request.value;
      if (result.readBack !== expected) {
        return this.finish(c, receivedMs, 'readback-mismatch', `readback-mismatch: wrote ${String(expected)}, read back ${String(result.readBack)}`, result.readBack);
      }
    }
    return this.finish(c, receivedMs, 'executed', null, result.readBack);
  }

  private serialised(key: string, run: () => Promise<CommandReport>): Promise<CommandReport> {
    const prev = this.pointQueues.get(key) ?? Promise.resolve();
    const next = prev.then(run, run);
    this.pointQueues.set(key, next);
    void next.finally(() => {
      if (this.pointQueues.get(key) === next) this.pointQueues.delete(key);
    });
    return next;
  }

  private refuse(c: Command, receivedMs: number, outcome: 'rejected' | 'expired', reason: string): CommandReport {
    this.counters[outcome === 'expired' ? 'expired' : 'rejected']++;
    this.opts.journal.record(entry(c, receivedMs, outcome, reason));
    return this.emit({ ...describe(c), outcome, reason, latencyMs: this.now() - receivedMs });
  }

  private finish(c: Command, receivedMs: number, outcome: Exclude<Outcome, 'pending' | 'interrupted'>, reason: string | null, readBack?: number | boolean): CommandReport {
    const now = this.now();
    this.opts.journal.finish(c.id, outcome, reason, now, readBack === undefined ? undefined : JSON.stringify({ readBack }));
    const counter = outcome === 'readback-mismatch' ? 'readbackMismatch' : outcome;
    this.counters[counter]++;
    return this.emit({ ...describe(c), outcome, ...(reason !== null && { reason }), ...(readBack !== undefined && { readBack }), latencyMs: now - receivedMs });
  }

  private report(e: JournalEntry, outcome: ReportedOutcome, reason?: string): void {
    this.emit({ id: e.id, outcome, device: e.device, point: e.point, action: e.action, source: e.source, ...(reason !== undefined && { reason }) });
  }

  private emit(r: CommandReport): CommandReport {
    try {
      this.opts.report(r);
    } catch (err) {
      this.opts.log.error({ err, id: r.id }, 'reporting a command outcome failed');
    }
    return r;
  }

  /** Resolves when every command already started has its outcome (before the journal closes). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.pointQueues.values()]);
  }

  stats(): typeof this.counters {
    return { ...this.counters };
  }
}

function describe(c: Command): Pick<CommandReport, 'id' | 'device' | 'point' | 'action' | 'source'> {
  return { id: c.id, device: c.device, point: c.point, action: c.request.action, source: c.source };
}

/** A command too malformed to name its target: journaled by id only, so the id stays spent. */
function malformedEntry(id: string, receivedMs: number, reason: string): JournalEntry {
  return { id, receivedMs, source: 'mqtt', device: '', point: '', action: '', request: 'null', expiresAt: 0, outcome: 'rejected', reason, finishedMs: receivedMs, detail: null };
}

function entry(c: Command, receivedMs: number, outcome: Outcome, reason: string | null): JournalEntry {
  const r = c.request;
  return {
    id: c.id,
    receivedMs,
    source: c.source,
    device: c.device,
    point: c.point,
    action: r.action,
    request: JSON.stringify(r.action === 'write' ? { value: r.value } : { durationMs: r.durationMs ?? null }),
    expiresAt: c.expiresAt,
    outcome,
    reason,
    finishedMs: outcome === 'pending' ? null : receivedMs,
    detail: null,
  };
}
