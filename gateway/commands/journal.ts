import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The command journal: every command the gateway was sent, executed or not, in its own SQLite
 * file beside the outbox (commands.db). It is the idempotency record and the local audit at once.
 *
 * An id is written durably (WAL, synchronous=FULL: fsynced at commit) BEFORE the device is
 * touched, so the same id again, after a redelivery, a reconnect, a restart or a power cut, finds
 * it and never actuates twice. A row still `pending` at start was cut off mid-command: it
 * becomes `interrupted` and is never retried by the gateway.
 *
 * Bounded: rows are kept `keepMs` (at least the longest expiry the gateway accepts, so no id can
 * be forgotten while a copy of its command could still be fresh), then pruned. If `maxRows` rows
 * are younger than that, new commands are refused (journal-full) rather than forgetting an id.
 * Kept apart from the outbox: the buffer stores what it is handed and knows nothing of commands.
 */
export type Outcome = 'pending' | 'executed' | 'failed' | 'readback-mismatch' | 'rejected' | 'expired' | 'interrupted';

export interface JournalEntry {
  id: string;
  receivedMs: number;
  source: 'mqtt' | 'local';
  device: string;
  point: string;
  action: string;
  /** The value or pulse duration asked for, as JSON text. */
  request: string;
  expiresAt: number;
  outcome: Outcome;
  reason: string | null;
  finishedMs: number | null;
  /** Who signed it (key id), who ran it locally (user), the value read back... */
  detail: string | null;
}

export interface JournalOptions {
  path: string;
  keepMs: number;
  maxRows: number;
}

export const JOURNAL_SCHEMA_VERSION = 1;

export class CommandJournal {
  private readonly db: Database.Database;
  private readonly findStmt: Database.Statement<[string], Row>;
  private readonly insertStmt: Database.Statement;
  private readonly finishStmt: Database.Statement;
  private rows: number;

  constructor(private readonly opts: JournalOptions) {
    mkdirSync(dirname(opts.path), { recursive: true, mode: 0o750 });
    this.db = new Database(opts.path);
    this.db.pragma('journal_mode = WAL');
    // Durable at commit: the record of a command must survive a power cut that follows it.
    this.db.pragma('synchronous = FULL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS commands (
        id TEXT PRIMARY KEY,
        received_ms INTEGER NOT NULL,
        source TEXT NOT NULL,
        device TEXT NOT NULL,
        point TEXT NOT NULL,
        action TEXT NOT NULL,
        request TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        reason TEXT,
        finished_ms INTEGER,
        detail TEXT
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS commands_received ON commands (received_ms);
      PRAGMA user_version = ${JOURNAL_SCHEMA_VERSION};
    `);
    this.findStmt = this.db.prepare('SELECT * FROM commands WHERE id = ?') as Database.Statement<[string], Row>;
    this.insertStmt = this.db.prepare(
      'INSERT OR IGNORE INTO commands (id, received_ms, source, device, point, action, request, expires_at, outcome, reason, finished_ms, detail) VALUES (@id, @receivedMs, @source, @device, @point, @action, @request, @expiresAt, @outcome, @reason, @finishedMs, @detail)',
    );
    this.finishStmt = this.db.prepare('UPDATE commands SET outcome = ?, reason = ?, finished_ms = ?, detail = COALESCE(?, detail) WHERE id = ?');
    this.rows = (this.db.prepare('SELECT count(*) AS n FROM commands').get() as { n: number }).n;
  }

  find(id: string): JournalEntry | undefined {
    const row = this.findStmt.get(id);
    return row && fromRow(row);
  }

  /** True when no more commands can be recorded without forgetting an id still inside its window. */
  get full(): boolean {
    return this.rows >= this.opts.maxRows;
  }

  /** Record a command; false if its id is already there (the caller answers with the first outcome). */
  record(e: JournalEntry): boolean {
    const inserted = this.insertStmt.run(e).changes === 1;
    if (inserted) this.rows++;
    return inserted;
  }

  finish(id: string, outcome: Exclude<Outcome, 'pending'>, reason: string | null, finishedMs: number, detail?: string): void {
    this.finishStmt.run(outcome, reason, finishedMs, detail ?? null, id);
  }

  /** At start: every command cut off before its outcome was known. They become `interrupted`. */
  interruptPending(now: number): JournalEntry[] {
    const rows = this.db.prepare("SELECT * FROM commands WHERE outcome = 'pending' ORDER BY received_ms").all() as Row[];
    const mark = this.db.prepare("UPDATE commands SET outcome = 'interrupted', reason = ?, finished_ms = ? WHERE id = ?");
    const reason = 'interrupted: the gateway stopped (crash or power cut) after recording the command and before its outcome was known; not retried';
    this.db.transaction(() => rows.forEach((r) => mark.run(reason, now, r.id)))();
    return rows.map((r) => ({ ...fromRow(r), outcome: 'interrupted' as const, reason, finishedMs: now }));
  }

  /** Forget ids older than keepMs. */
  prune(now: number): number {
    const n = this.db.prepare('DELETE FROM commands WHERE received_ms < ?').run(now - this.opts.keepMs).changes;
    this.rows -= n;
    return n;
  }

  /** Newest first, for the audit verb. */
  recent(limit: number, device?: string): JournalEntry[] {
    const rows = (
      device === undefined
        ? this.db.prepare('SELECT * FROM commands ORDER BY received_ms DESC, id LIMIT ?').all(limit)
        : this.db.prepare('SELECT * FROM commands WHERE device = ? ORDER BY received_ms DESC, id LIMIT ?').all(device, limit)
    ) as Row[];
    return rows.map(fromRow);
  }

  counts(): Record<Outcome, number> & { total: number } {
    const out = { pending: 0, executed: 0, failed: 0, 'readback-mismatch': 0, rejected: 0, expired: 0, interrupted: 0, total: 0 };
    for (const r of this.db.prepare('SELECT outcome, count(*) AS n FROM commands GROUP BY outcome').all() as { outcome: Outcome; n: number }[]) {
      out[r.outcome] = r.n;
      out.total += r.n;
    }
    return out;
  }

  close(): void {
    this.db.close();
  }
}

interface Row {
  id: string;
  received_ms: number;
  source: 'mqtt' | 'local';
  device: string;
  point: string;
  action: string;
  request: string;
  expires_at: number;
  outcome: Outcome;
  reason: string | null;
  finished_ms: number | null;
  detail: string | null;
}

function fromRow(r: Row): JournalEntry {
  return {
    id: r.id,
    receivedMs: r.received_ms,
    source: r.source,
    device: r.device,
    point: r.point,
    action: r.action,
    request: r.request,
    expiresAt: r.expires_at,
    outcome: r.outcome,
    reason: r.reason,
    finishedMs: r.finished_ms,
    detail: r.detail,
  };
}
