import Database from 'better-sqlite3';
import { closeSync, existsSync, mkdirSync, openSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { checkOutboxAccess, describeAccessProblem, isAccessProblem, isCorruption } from './open-error.js';

/**
 * Only real damage (not a database, malformed) leads to quarantine; an outbox this process may
 * not open (owner, mode, read-only filesystem, missing directory) is an OutboxAccessError and
 * nothing is moved. A corrupt outbox must not keep the gateway from buffering new readings: the damaged file is
 * moved aside (kept for analysis, never deleted), a fresh one is created, and the caller raises
 * an alert upstream. If the old file still yields its sequence counter, numbering continues
 * from it so sequence numbers are never reused.
 */
export interface QuarantineReport {
  /** Where the damaged database (and its -wal/-shm) now lie. */
  movedTo: string;
  reason: string;
  inheritedNextSeq: number | null;
}

export function openOrQuarantine(path: string): { db: Database.Database; quarantine: QuarantineReport | null } {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
  } catch (err) {
    throw describeAccessProblem(path, dirname(path), err);
  }
  // Permission, read-only and missing-directory problems are told apart from damage before
  // SQLite sees the file: SQLite reports them with codes (CANTOPEN, READONLY) that a blanket
  // catch would mistake for corruption, and a healthy backlog would be moved aside.
  const denied = checkOutboxAccess(path);
  if (denied) throw denied;
  createWithMode(path);
  let reason: string;
  let db: Database.Database | undefined;
  try {
    db = new Database(path);
    const check = db.pragma('quick_check', { simple: true });
    if (check === 'ok') return { db, quarantine: null };
    reason = `quick_check: ${String(check)}`;
  } catch (err) {
    if (!isCorruption(err)) {
      closeQuietly(db);
      if (isAccessProblem(err)) throw describeAccessProblem(path, path, err);
      const code = (err as { code?: string })?.code ?? 'ERROR';
      throw Object.assign(new Error(`outbox ${path}: cannot open it: ${code}: ${(err as Error)?.message}; nothing was moved`, { cause: err }), { code });
    }
    reason = `${(err as { code?: string }).code ?? 'ERROR'}: ${(err as Error).message}`;
  }
  const inheritedNextSeq = db ? salvageNextSeq(db) : null;
  closeQuietly(db);
  const movedTo = `${path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(path + suffix)) renameSync(path + suffix, movedTo + suffix);
  }
  createWithMode(path);
  return { db: new Database(path), quarantine: { movedTo, reason, inheritedNextSeq } };
}

/**
 * The outbox holds everything devices reported: readable by the service user and its group only,
 * whatever the umask of whoever started the daemon. SQLite gives -wal and -shm the same mode.
 */
export const OUTBOX_FILE_MODE = 0o640;

function createWithMode(path: string): void {
  try {
    closeSync(openSync(path, 'wx', OUTBOX_FILE_MODE));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw describeAccessProblem(path, path, err);
  }
}

function closeQuietly(db: Database.Database | undefined): void {
  try {
    db?.close();
  } catch {
    // Closing a corrupt handle may fail; the file is moved aside either way.
  }
}

function salvageNextSeq(db: Database.Database): number | null {
  try {
    // The counter row (telemetry first_seq 0), or meta.next_seq in files from earlier versions.
    const candidates = [
      "SELECT count AS n FROM telemetry WHERE first_seq = 0",
      "SELECT value AS n FROM meta WHERE key = 'next_seq'",
    ];
    let best: number | null = null;
    for (const sql of candidates) {
      try {
        const n = Number((db.prepare(sql).get() as { n: unknown } | undefined)?.n);
        if (Number.isSafeInteger(n) && n > 0 && (best === null || n > best)) best = n;
      } catch {
        // That part of the file is unreadable; try the other.
      }
    }
    return best;
  } catch {
    return null;
  }
}
