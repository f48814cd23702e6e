import type Database from 'better-sqlite3';

/**
 * The outbox file's schema version, kept in SQLite's `user_version` header field so that a tool,
 * doctor or a later migration can tell what layout a file has without guessing from its tables.
 * Bump it with every change to the tables in schema.ts (and migrate at open).
 *   0  written before versions were recorded (same tables as 1; recorded at the next open)
 *   1  events/telemetry (first_seq, count, created_ms, body, layouts), meta, layouts, drops, skips
*   2  adds `acked` (acknowledged rows kept for replay); nothing else changes, so opening a
 *      version 1 file only creates the table
 */
export const OUTBOX_SCHEMA_VERSION = 2;

export function readSchemaVersion(db: Database.Database): number {
  return Number(db.pragma('user_version', { simple: true }));
}

/** Called by the outbox once its tables are created or migrated: the file now has this layout. */
export function recordSchemaVersion(db: Database.Database): void {
  if (readSchemaVersion(db) !== OUTBOX_SCHEMA_VERSION) db.pragma(`user_version = ${OUTBOX_SCHEMA_VERSION}`);
}
