import type Database from 'better-sqlite3';
import type { Stream } from '../model/stream.js';
import { recordSchemaVersion } from './schema-version.js';

/**
 * The outbox's tables and every statement run against them. A row is a run of consecutive seqs
 * (`first_seq`, `count`) with its encoded `body`, its commit time, and the space-separated ids of
 * the shared parts (`layouts` table) it names. `events` and `telemetry` hold what is pending;
 * `acked` holds rows the broker acknowledged, kept a bounded while so a seq range the broker
 * lost can be re-sent (kept-acked.ts). A table of their own, not a flag: claims and pending
 * totals never have to step over them.
 */

export const TABLE: Record<Stream, string> = { event: 'events', telemetry: 'telemetry' };

/*
 * The sequence counter lives in telemetry row 0 (count = next sequence number, empty body), not
 * in a table of its own: in the steady state that row shares the one leaf page every commit
 * writes anyway, which saves a 4 KiB WAL frame per commit (~50 bytes per reading at the
 * intersection load; SD-card wear is counted in bytes). Data rows start at first_seq 1.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  first_seq INTEGER PRIMARY KEY,
  count INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  body TEXT NOT NULL,
  layouts TEXT
);
CREATE TABLE IF NOT EXISTS telemetry (
  first_seq INTEGER PRIMARY KEY,
  count INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  body TEXT NOT NULL,
  layouts TEXT
);
CREATE TABLE IF NOT EXISTS acked (
  first_seq INTEGER PRIMARY KEY,
  count INTEGER NOT NULL,
  acked_ms INTEGER NOT NULL,
  body TEXT NOT NULL,
  layouts TEXT,
  stream TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS layouts (id TEXT PRIMARY KEY, json TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS drops (
  id INTEGER PRIMARY KEY,
  from_seq INTEGER NOT NULL,
  to_seq INTEGER NOT NULL,
  readings INTEGER NOT NULL,
  stream TEXT NOT NULL,
  reason TEXT NOT NULL,
  ts INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS skips (
  id INTEGER PRIMARY KEY,
  from_seq INTEGER NOT NULL,
  to_seq INTEGER NOT NULL,
  reason TEXT NOT NULL,
  ts INTEGER NOT NULL
);
`;

const KEEP_DROP_RECORDS = 50;
/** Upper bound on rows one claim looks at; the byte and count bounds normally stop it far sooner. */
const CLAIM_SCAN_ROWS = 256;

/** A stored row as claims read it. */
export interface ClaimRow {
  first_seq: number;
  count: number;
  created_ms: number;
  body: Buffer;
  /** Space-separated ids of the shared parts the row names; null for none. */
  layouts: string | null;
}

/** A row's size as retention and acks count it. */
export interface RowSize {
  count: number;
  bytes: number;
}

export function createSchema(db: Database.Database): void {
  db.exec(SCHEMA);
  addLayoutsColumns(db);
  recordSchemaVersion(db);
}

/**
 * Files written before payload v2 have no `layouts` column: add it (NULL on old rows, which
 * hold no records). ALTER TABLE ADD COLUMN only rewrites the schema, not the rows.
 */
function addLayoutsColumns(db: Database.Database): void {
  for (const table of Object.values(TABLE)) {
    const columns = db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[];
    if (!columns.some((c) => c.name === 'layouts')) db.exec(`ALTER TABLE ${table} ADD COLUMN layouts TEXT`);
  }
}

function runsInSql(t: string): string {
  return `SELECT first_seq, count FROM ${t} WHERE first_seq >= coalesce((SELECT first_seq FROM ${t} WHERE first_seq > 0 AND first_seq <= @from ORDER BY first_seq DESC LIMIT 1), @from) AND first_seq > 0 AND first_seq <= @to ORDER BY first_seq`;
}

export type Statements = ReturnType<typeof prepareStatements>;

export function prepareStatements(db: Database.Database) {
  const per = (sql: (t: string) => string) => ({
    event: db.prepare(sql(TABLE.event)),
    telemetry: db.prepare(sql(TABLE.telemetry)),
  });
  return {
    getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
    setMeta: db.prepare('INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
    insert: per((t) => `INSERT INTO ${t}(first_seq, count, created_ms, body, layouts) VALUES (?, ?, ?, ?, ?)`),
    insertLayout: db.prepare('INSERT OR IGNORE INTO layouts(id, json) VALUES (?, ?)'),
    getLayout: db.prepare('SELECT json FROM layouts WHERE id = ?'),
    // Layouts live as long as a stored row names them; old config's layouts go at the next start.
    dropUnusedLayouts: db.prepare(
      'DELETE FROM layouts WHERE NOT EXISTS (SELECT 1 FROM telemetry WHERE instr(telemetry.layouts, layouts.id) > 0) AND NOT EXISTS (SELECT 1 FROM acked WHERE instr(acked.layouts, layouts.id) > 0)',
    ),
    setNextSeq: db.prepare(
      "INSERT INTO telemetry(first_seq, count, created_ms, body) VALUES (0, ?, 0, '') ON CONFLICT(first_seq) DO UPDATE SET count = excluded.count",
    ),
    getNextSeq: db.prepare('SELECT count FROM telemetry WHERE first_seq = 0'),
    maxEndSeq: per((t) => `SELECT first_seq + count AS end FROM ${t} ORDER BY first_seq DESC LIMIT 1`),
    totals: per((t) => `SELECT count(*) AS rows, coalesce(sum(count), 0) AS readings, coalesce(sum(length(body)), 0) AS bytes FROM ${t} WHERE first_seq > 0`),
    // As bytes: the forwarder concatenates them into the payload buffer, so decoding them into
    // JS strings first would be wasted work (and garbage).
    // The limit is part of the SQL, not a parameter: better-sqlite3's SQLite is built with STAT4,
    // under which re-binding `LIMIT ?` expires the statement and every claim re-parsed it.
    claim: per((t) => `SELECT first_seq, count, created_ms, CAST(body AS BLOB) AS body, layouts FROM ${t} WHERE first_seq > ? ORDER BY first_seq LIMIT ${CLAIM_SCAN_ROWS}`),
    anyAfter: per((t) => `SELECT 1 FROM ${t} WHERE first_seq > ? LIMIT 1`),
    ack: per((t) => `DELETE FROM ${t} WHERE first_seq BETWEEN ? AND ? RETURNING count, length(body) AS bytes`),
    oldest: per((t) => `SELECT created_ms FROM ${t} WHERE first_seq > 0 ORDER BY first_seq LIMIT 1`),
    oldestRows: per((t) => `SELECT first_seq, count, length(body) AS bytes, created_ms FROM ${t} WHERE first_seq > 0 ORDER BY first_seq LIMIT ?`),
    deleteUpTo: per((t) => `DELETE FROM ${t} WHERE first_seq BETWEEN 1 AND ? RETURNING count, length(body) AS bytes`),
    shiftAges: per((t) => `UPDATE ${t} SET created_ms = created_ms + ? WHERE first_seq > 0 AND first_seq < ?`),
    // Kept acknowledged rows (kept-acked.ts). The stream is a constant per statement, not a value
    // copied from a column the pending tables do not have.
    keepAcked: {
      event: db.prepare(`INSERT OR IGNORE INTO acked(first_seq, count, acked_ms, body, layouts, stream) SELECT first_seq, count, ?, body, layouts, 'event' FROM ${TABLE.event} WHERE first_seq BETWEEN ? AND ?`),
      telemetry: db.prepare(
        `INSERT OR IGNORE INTO acked(first_seq, count, acked_ms, body, layouts, stream) SELECT first_seq, count, ?, body, layouts, 'telemetry' FROM ${TABLE.telemetry} WHERE first_seq BETWEEN ? AND ?`,
      ),
    },
    ackedTotals: db.prepare('SELECT count(*) AS rows, coalesce(sum(count), 0) AS readings, coalesce(sum(length(body)), 0) AS bytes FROM acked'),
    ackedOldestRows: db.prepare('SELECT first_seq, count, length(body) AS bytes, acked_ms FROM acked ORDER BY first_seq LIMIT 64'),
    ackedDeleteUpTo: db.prepare('DELETE FROM acked WHERE first_seq <= ? RETURNING count, length(body) AS bytes'),
    ackedDeleteAll: db.prepare('DELETE FROM acked'),
    ackedMaxEndSeq: db.prepare('SELECT first_seq + count AS end FROM acked ORDER BY first_seq DESC LIMIT 1'),
    ackedRead: db.prepare(
      // From the row holding @from (seqs are unique across streams, so the last row starting at or
      // before it, of either stream, is where this stream's overlap can begin).
      `SELECT first_seq, count, acked_ms AS created_ms, CAST(body AS BLOB) AS body, layouts FROM acked WHERE stream = @stream AND first_seq > @after` +
        ` AND first_seq >= coalesce((SELECT first_seq FROM acked WHERE first_seq <= @from ORDER BY first_seq DESC LIMIT 1), @from) AND first_seq <= @to ORDER BY first_seq LIMIT ${CLAIM_SCAN_ROWS}`,
    ),
    // Runs overlapping [@from, @to]: from the row holding @from (or the first after it) up to ?2.
    runsIn: {
      event: db.prepare(runsInSql(TABLE.event)),
      telemetry: db.prepare(runsInSql(TABLE.telemetry)),
      acked: db.prepare(runsInSql('acked')),
    },
    insertDrop: db.prepare('INSERT INTO drops(from_seq, to_seq, readings, stream, reason, ts) VALUES (?, ?, ?, ?, ?, ?)'),
    trimDrops: db.prepare(`DELETE FROM drops WHERE id <= (SELECT max(id) FROM drops) - ${KEEP_DROP_RECORDS}`),
    lastDrops: db.prepare('SELECT from_seq, to_seq, readings, stream, reason, ts FROM drops ORDER BY id DESC LIMIT 10'),
    insertSkip: db.prepare('INSERT INTO skips(from_seq, to_seq, reason, ts) VALUES (?, ?, ?, ?)'),
    trimSkips: db.prepare(`DELETE FROM skips WHERE id <= (SELECT max(id) FROM skips) - ${KEEP_DROP_RECORDS}`),
    lastSkips: db.prepare('SELECT from_seq, to_seq, reason, ts FROM skips ORDER BY id DESC LIMIT 10'),
  };
}
