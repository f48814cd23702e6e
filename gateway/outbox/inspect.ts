import Database from 'better-sqlite3';

/**
 * Read-only looks at an outbox file for tests, torture rigs and tools, so that knowledge of the
 * file's layout stays with the outbox. Use on a stopped daemon's file: a reader on a live one
 * could hold back a checkpoint.
 */
function withFile<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

export function integrityCheck(path: string): string {
  return withFile(path, (db) => (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join('; '));
}

/** Highest sequence number ever assigned; 0 for an outbox that never committed. */
export function committedUpTo(path: string): number {
  return withFile(path, (db) => {
    const counter = (db.prepare('SELECT count FROM telemetry WHERE first_seq = 0').get() as { count: number } | undefined)?.count;
    // Files from earlier versions kept the counter in meta.
    const legacy = Number((db.prepare("SELECT value FROM meta WHERE key = 'next_seq'").get() as { value: string } | undefined)?.value ?? 0);
    return Math.max(counter ?? 1, legacy, 1) - 1;
  });
}

/** Readings stored and not yet acknowledged by the broker. */
export function pendingReadings(path: string): number {
  return withFile(
    path,
    (db) =>
      (
        db
          .prepare('SELECT (SELECT coalesce(sum(count),0) FROM telemetry WHERE first_seq > 0) + (SELECT coalesce(sum(count),0) FROM events) AS n')
          .get() as { n: number }
      ).n,
  );
}

/** Every seq range still stored, ascending. */
export function storedRanges(path: string): [number, number][] {
  return withFile(path, (db) =>
    (
      db
        .prepare('SELECT first_seq AS f, first_seq + count - 1 AS l FROM telemetry WHERE first_seq > 0 UNION ALL SELECT first_seq, first_seq + count - 1 FROM events ORDER BY 1')
        .all() as { f: number; l: number }[]
    ).map((r) => [r.f, r.l] as [number, number]),
  );
}

export function outboxId(path: string): string | null {
  return withFile(path, (db) => (db.prepare("SELECT value FROM meta WHERE key = 'outbox_id'").get() as { value: string } | undefined)?.value ?? null);
}
