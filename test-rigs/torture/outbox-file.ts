import Database from 'better-sqlite3';

/**
 * Read-only looks at an outbox file after the daemon has stopped (never while it runs: a reader
 * could hold back a checkpoint and change what is being tested).
 */
export function integrityCheck(path: string): string {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const rows = db.pragma('integrity_check') as { integrity_check: string }[];
    return rows.map((r) => r.integrity_check).join('; ');
  } finally {
    db.close();
  }
}

/** Highest sequence number ever assigned (next_seq - 1); 0 for an outbox that never committed. */
export function committedUpTo(path: string): number {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare("SELECT value FROM meta WHERE key = 'next_seq'").get() as { value: string } | undefined;
    return row === undefined ? 0 : Number(row.value) - 1;
  } finally {
    db.close();
  }
}

export function pendingReadings(path: string): number {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const row = db
      .prepare('SELECT (SELECT coalesce(sum(count),0) FROM telemetry) + (SELECT coalesce(sum(count),0) FROM events) AS n')
      .get() as { n: number };
    return row.n;
  } finally {
    db.close();
  }
}

/** Every seq range still stored, ascending: used to prove a recovered file has no holes. */
export function storedRanges(path: string): [number, number][] {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare('SELECT first_seq AS f, first_seq + count - 1 AS l FROM telemetry UNION ALL SELECT first_seq, first_seq + count - 1 FROM events ORDER BY 1')
      .all() as { f: number; l: number }[];
    return rows.map((r) => [r.f, r.l]);
  } finally {
    db.close();
  }
}

export function outboxId(path: string): string | null {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare("SELECT value FROM meta WHERE key = 'outbox_id'").get() as { value: string } | undefined)?.value ?? null;
  } finally {
    db.close();
  }
}
