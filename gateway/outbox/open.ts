import Database from 'better-sqlite3';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * A corrupt outbox must not keep the gateway from buffering new readings: the damaged file is
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
  mkdirSync(dirname(path), { recursive: true });
  let reason: string;
  let db: Database.Database | undefined;
  try {
    db = new Database(path);
    const check = db.pragma('quick_check', { simple: true });
    if (check === 'ok') return { db, quarantine: null };
    reason = `quick_check: ${String(check)}`;
  } catch (err) {
    reason = `${(err as { code?: string }).code ?? 'ERROR'}: ${(err as Error).message}`;
  }
  const inheritedNextSeq = db ? salvageNextSeq(db) : null;
  try {
    db?.close();
  } catch {
    // Closing a corrupt handle may fail; the file is moved aside either way.
  }
  const movedTo = `${path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(path + suffix)) renameSync(path + suffix, movedTo + suffix);
  }
  return { db: new Database(path), quarantine: { movedTo, reason, inheritedNextSeq } };
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
