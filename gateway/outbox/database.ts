import type Database from 'better-sqlite3';
import { openOrQuarantine, type QuarantineReport } from './open.js';
import { createSchema } from './schema.js';

export interface DatabaseOptions {
  path: string;
  durability: 'normal' | 'strict';
  maxFileBytes?: number;
  reserveBytes?: number;
}

/**
 * The outbox connection's SQLite page cache, in KiB. better-sqlite3 builds SQLite with a 16 MB
 * default (SQLITE_DEFAULT_CACHE_SIZE=-16000), and rows churning through the table (appended at
 * one end, deleted at the other) fill all of it: at the intersection load the daemon's RSS grew
 * ~16 MB over its first ~100 s and stayed there, for pages the kernel's page cache holds anyway.
 * The outbox's hot pages are few (the table's two ends and its interior pages; claims are served
 * from memory, memory-tail.ts), so 512 KiB costs no measurable CPU at that load or in the 1M
 * backlog drain (docs/benchmarks.md, "Memory at the intersection"). Dirty pages are not bound by
 * it (see the spill threshold below).
 */
export const OUTBOX_PAGE_CACHE_KIB = 512;

/** Opens (or quarantines and recreates) the outbox file with the pragmas the outbox relies on. */
export function openDatabase(opts: DatabaseOptions): { db: Database.Database; quarantine: QuarantineReport | null } {
  const { db, quarantine } = openOrQuarantine(opts.path);
  // Only takes effect on a new file: lets a drain on a full disk hand freed pages back to the
  // filesystem (incremental_vacuum) instead of keeping them inside the file.
  db.pragma('auto_vacuum = INCREMENTAL');
  db.pragma('journal_mode = WAL');
  // After a checkpoint, shrink a WAL that grew during a long outage instead of keeping its
  // high-water size on a small SD card.
  db.pragma(`journal_size_limit = ${16 * 1024 * 1024}`);
  db.pragma(`synchronous = ${opts.durability === 'strict' ? 'FULL' : 'NORMAL'}`);
  // Only the cache of clean pages shrinks. SQLite writes a transaction's dirty pages out early
  // ("spills" them to the WAL) once they pass the cache size; on a full disk that early write
  // fails and the drain that would free space cannot commit (disk-full.test.ts). The spill
  // threshold therefore stays where the build default put it: a transaction keeps up to ~16 MB
  // of dirty pages in memory, as before, and returns to 512 KiB of cache when it commits.
  const spillPages = db.pragma('cache_spill', { simple: true }) as number;
  db.pragma(`cache_size = -${OUTBOX_PAGE_CACHE_KIB}`);
  db.pragma(`cache_spill = ${spillPages}`);
  if (opts.maxFileBytes !== undefined) {
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    db.pragma(`max_page_count = ${Math.max(16, Math.floor(opts.maxFileBytes / pageSize))}`);
  }
  createSchema(db);
  if (opts.reserveBytes) {
    // Rows still only in the WAL need room in the main file when checkpointed; keep that
    // amount within half the reserve so a full disk can always be checkpointed and drained.
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    db.pragma(`wal_autocheckpoint = ${Math.max(16, Math.min(1000, Math.floor(opts.reserveBytes / pageSize / 2)))}`);
  }
  return { db, quarantine };
}

/** Run `write` with this commit fsynced even in `normal` mode. */
export function synced<T>(db: Database.Database, durability: 'normal' | 'strict', write: () => T): T {
  if (durability === 'strict') return write();
  db.pragma('synchronous = FULL');
  try {
    return write();
  } finally {
    db.pragma('synchronous = NORMAL');
  }
}

export function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  return code === 'SQLITE_FULL' || code === 'SQLITE_IOERR_WRITE' || code === 'SQLITE_IOERR_FSYNC';
}
