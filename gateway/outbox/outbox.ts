import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import type { Reading } from '../../drivers/reading.js';
import { encodeReading, RowWriter } from './encode.js';
import { layoutOf, makeLayout, type Layout } from './layouts.js';
import { recordSchemaVersion } from './schema-version.js';
import { dirname } from 'node:path';
import { PackedRun, readingCount, type Committable } from '../packed-run.js';
import { DiskReserve } from './disk-reserve.js';
import { fsyncDirectory } from './fsync-dir.js';
import { openOrQuarantine, type QuarantineReport } from './open.js';

/**
 * The durable outbox: every reading is committed here, with its gateway-wide sequence number,
 * before anything else happens to it; the forwarder claims the oldest rows, publishes them and
 * deletes them when the broker acknowledges. Nothing here knows about drivers or MQTT.
 *
 * Storage shape: one row holds a run of consecutive sequence numbers (one commit's worth of
 * readings of one stream, at most `rowMaxReadings`), already encoded as payload JSON. A row per
 * reading would cap the gateway near SQLite's ~700k rows/s; a row per run does not.
 *
 * Two streams, two tables: events (scans, state changes) are claimed ahead of bulk telemetry
 * and are the last thing retention evicts. The sequence is shared, so gaps stay detectable.
 *
 * Claims live in memory only: after a crash every row that was in flight is simply pending
 * again (at-least-once), which makes crash recovery a property of start-up, not a special case.
 *
 * Power cuts: with `durability: normal` (WAL + synchronous=NORMAL) the last commits, and the
 * counter with them, can roll back after the forwarder already published them. So seqs are
 * handed out from blocks reserved by a *synced* write (hi/lo): the on-disk `seq_reserved_to` is
 * always above every seq that could have left the box. After an unclean stop the numbering
 * continues above the reserved block and the skipped range is declared (`skipped`), so a seq is
 * never given to two different readings.
 */

export type Stream = 'event' | 'telemetry';
const TABLE: Record<Stream, string> = { event: 'events', telemetry: 'telemetry' };

export interface OutboxOptions {
  path: string;
  /** `strict` fsyncs every commit (synchronous=FULL); `normal` survives process crashes, and a
   * power cut may lose the last commits but never corrupts (WAL + synchronous=NORMAL): the next
   * start skips the seqs they may have used and declares them (`skipped`). */
  durability: 'normal' | 'strict';
  rowMaxReadings: number;
  retention: { maxBytes: number; maxAgeMs: number };
  /** Optional hard cap on the database file, via SQLite's max_page_count (tests use it to
   * simulate a full disk without mounting a filesystem). */
  maxFileBytes?: number;
  /** Disk space held back so acknowledged rows can always be deleted on a full disk (0 = none). */
  reserveBytes?: number;
  /** Decides whether readings committed now are flagged `clock: unsynced`. */
  clockSynced?: () => boolean;
  /**
   * Serve claims from a copy of the rows just committed while the forwarder keeps up, instead of
   * reading them back from SQLite (default true; false only to compare the two in tests).
   */
  claimFromMemory?: boolean;
  /**
   * How a driver's packed readings are stored: `readings`, one payload-v1 object per value
   * (default); `records`, one payload-v2 poll record per run, its layout stored once.
   */
  packedAs?: 'readings' | 'records';
}

export interface ClaimedBatch {
  stream: Stream;
  /** first_seq of the first and last row: the contiguous key range to delete on ack. */
  fromKey: number;
  toKey: number;
  firstSeq: number;
  lastSeq: number;
  count: number;
  bytes: number;
  /** Encoded readings as UTF-8 JSON (each row a comma-joined run), ready to be wrapped in a payload. */
  bodies: Buffer[];
  /** Layouts the batch's poll records name (payload v2); empty when it holds none. */
  layouts: Layout[];
}

export interface DropRecord {
  fromSeq: number;
  toSeq: number;
  readings: number;
  stream: Stream;
  reason: 'max-bytes' | 'max-age';
  ts: number;
}

/** Seqs the outbox will never deliver because it restarted above its reserved block. */
export interface SkipRecord {
  fromSeq: number;
  toSeq: number;
  /** `unclean-stop`: the last run ended without closing the outbox (power cut, crash, kill). */
  reason: 'unclean-stop';
  ts: number;
}

export interface StreamStats {
  pendingReadings: number;
  pendingRows: number;
  pendingBytes: number;
  oldestPendingMs: number | null;
}

export interface OutboxStats {
  outboxId: string;
  nextSeq: number;
  pendingReadings: number;
  pendingBytes: number;
  oldestPendingMs: number | null;
  streams: Record<Stream, StreamStats>;
  droppedReadings: number;
  refusedReadings: number;
  lastDrops: DropRecord[];
  lastSkips: SkipRecord[];
}

export class OutboxFullError extends Error {
  readonly code = 'OUTBOX_FULL';
}

interface Totals {
  readings: number;
  rows: number;
  bytes: number;
}

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
/**
 * Seqs reserved per synced write, at least. One extra fsync per block: at the intersection load
 * (1,600 readings/s) one every ~2.5 s. It is also the most an unclean stop skips.
 */
export const SEQ_BLOCK = 4096;
/**
 * At high rates a fixed block would be crossed by every commit (a 50 ms window at 650k values/s
 * holds 32k seqs), turning `normal` into an fsync per commit. A block covers this many commits
 * of the size that crossed it instead: about 1.6 s at the default window.
 */
const COMMITS_PER_BLOCK = 32;

/** Seqs to reserve beyond a commit of `count` readings that crossed the reserved block. */
export function seqBlockFor(count: number): number {
  return Math.max(SEQ_BLOCK, count * COMMITS_PER_BLOCK);
}
/** Upper bound on rows one claim looks at; the byte and count bounds normally stop it far sooner. */
const CLAIM_SCAN_ROWS = 256;

interface AppendResult {
  nextSeq: number;
  rows: number;
  bytes: number;
}

/**
 * Rows committed and not yet claimed, in order, held in memory while they are *all* such rows of
 * the stream (`complete`). When the forwarder keeps up, a claim is served from here without a
 * query: reading back what was just written cost a tenth of the poll path. Anything that makes
 * the copy incomplete or stale (a claim falling behind past the bound, release, retention,
 * shifted ages) drops it, and claims read SQLite until they have caught up again.
 */
interface Tail {
  complete: boolean;
  rows: ClaimRow[];
  /** Index of the first unclaimed row in `rows` (claimed ones are dropped in bulk). */
  head: number;
  bytes: number;
}
/** Most bytes the in-memory tail of a stream holds; past it, claims read SQLite (a backlog). */
const TAIL_MAX_BYTES = 4 * 1024 * 1024;

interface ClaimRow {
  first_seq: number;
  count: number;
  created_ms: number;
  body: Buffer;
  /** Space-separated ids of the layouts the row's poll records name; null for none. */
  layouts: string | null;
}

export class Outbox {
  readonly quarantine: QuarantineReport | null;
  /** Set when this start skipped seqs after an unclean stop; the daemon announces it. */
  readonly skipped: SkipRecord | null;
  private readonly db: Database.Database;
  private readonly opts: OutboxOptions;
  private nextSeq: number;
  /** Seqs below this are covered by a synced reservation; the next one needs a new block. */
  private reservedTo: number;
  private readonly outboxId: string;
  private droppedReadings: number;
  private refusedReadings = 0;
  private readonly totals: Record<Stream, Totals>;
  /** Highest first_seq handed out by claim() per stream since the last release(). */
  private readonly claimCursor: Record<Stream, number> = { event: 0, telemetry: 0 };
  private readonly tails: Record<Stream, Tail> = { event: emptyTail(), telemetry: emptyTail() };
  /** Rows the running append transaction wrote, for the tail once it has committed (null: no tail to feed). */
  private written: ClaimRow[] | null = null;
  private readonly stmts: ReturnType<Outbox['prepare']>;
  private readonly appendTx: (stream: Stream, items: readonly Committable[], now: number) => AppendResult;
  private closed = false;
  private readonly reserve: DiskReserve;
  private readonly rowWriter = new RowWriter();
  /** Layouts known to be in the layouts table, by id (filled on store and on first claim). */
  private readonly layouts = new Map<string, Layout>();

  constructor(opts: OutboxOptions) {
    this.opts = opts;
    const { db, quarantine } = openOrQuarantine(opts.path);
    this.db = db;
    this.quarantine = quarantine;
    // Only takes effect on a new file: lets a drain on a full disk hand freed pages back to the
    // filesystem (incremental_vacuum) instead of keeping them inside the file.
    db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    // After a checkpoint, shrink a WAL that grew during a long outage instead of keeping its
    // high-water size on a small SD card.
    db.pragma(`journal_size_limit = ${16 * 1024 * 1024}`);
    db.pragma(`synchronous = ${opts.durability === 'strict' ? 'FULL' : 'NORMAL'}`);
    if (opts.maxFileBytes !== undefined) {
      const pageSize = db.pragma('page_size', { simple: true }) as number;
      db.pragma(`max_page_count = ${Math.max(16, Math.floor(opts.maxFileBytes / pageSize))}`);
    }
    db.exec(SCHEMA);
    addLayoutsColumns(db);
    recordSchemaVersion(db);
    this.stmts = this.prepare();
    this.reserve = new DiskReserve(`${opts.path}.reserve`, opts.reserveBytes ?? 0);
    if (opts.reserveBytes) {
      // Rows still only in the WAL need room in the main file when checkpointed; keep that
      // amount within half the reserve so a full disk can always be checkpointed and drained.
      const pageSize = db.pragma('page_size', { simple: true }) as number;
      db.pragma(`wal_autocheckpoint = ${Math.max(16, Math.min(1000, Math.floor(opts.reserveBytes / pageSize / 2)))}`);
    }

    const meta = (key: string): string | undefined =>
      (this.stmts.getMeta.get(key) as { value: string } | undefined)?.value;
    const existingId = meta('outbox_id');
    this.outboxId = existingId ?? randomUUID();
    // The stored counter is authoritative; the row scan guards against a meta row lost to a
    // hand-edited or partially restored file. Sequence numbers must never be reused.
    const counterRow = (this.stmts.getNextSeq.get() as { count: number } | undefined)?.count ?? 1;
    const fromRows = Math.max(counterRow, this.maxEndSeq('events'), this.maxEndSeq('telemetry'));
    const inherited = quarantine?.inheritedNextSeq ?? 1;
    // `meta.next_seq` is where files written by earlier versions kept the counter.
    this.nextSeq = Math.max(Number(meta('next_seq') ?? 1), fromRows, inherited);
    const reservedTo = Number(meta('seq_reserved_to') ?? 0);
    // `running` is set (synced) at every open and cleared by close(). Still set means the last
    // run died; if it ran `normal`, its last commits may have rolled back after being published.
    const unclean = meta('running') === '1' && meta('running_durability') !== 'strict';
    this.skipped =
      unclean && reservedTo > this.nextSeq
        ? { fromSeq: this.nextSeq, toSeq: reservedTo - 1, reason: 'unclean-stop', ts: Date.now() }
        : null;
    if (this.skipped) this.nextSeq = reservedTo;
    this.reservedTo = Math.max(reservedTo, this.nextSeq);
    this.durablyOpen(existingId === undefined);
    this.droppedReadings = Number(meta('dropped_readings') ?? 0);
    this.totals = { event: this.scanTotals('event'), telemetry: this.scanTotals('telemetry') };
    // Layouts live as long as a stored row names them; old config's layouts go at the next start.
    db.prepare('DELETE FROM layouts WHERE NOT EXISTS (SELECT 1 FROM telemetry WHERE instr(telemetry.layouts, layouts.id) > 0)').run();

    this.appendTx = db.transaction((stream: Stream, items: readonly Committable[], now: number): AppendResult => {
      const unsynced = this.opts.clockSynced ? !this.opts.clockSynced() : false;
      const insert = stream === 'event' ? this.stmts.insertEvent : this.stmts.insertTelemetry;
      const rowMax = this.opts.rowMaxReadings;
      let seq = this.nextSeq;
      let bytes = 0;
      let rows = 0;
      if (!items.some((item) => item instanceof PackedRun)) {
        // Plain readings only: one string per row, as before. Writing them through RowWriter
        // measured no faster (an in-process A/B, 2.1-2.7 µs/reading either way, noisy); it pays
        // off for packed values, which it writes without any string.
        const readings = items as readonly Reading[];
        for (let start = 0; start < readings.length; start += rowMax) {
          const end = Math.min(readings.length, start + rowMax);
          const firstSeq = seq;
          let text = encodeReading(readings[start]!, seq++, unsynced);
          for (let i = start + 1; i < end; i++) text += ',' + encodeReading(readings[i]!, seq++, unsynced);
          // Encoded to UTF-8 once, here, and bound as bytes like packed rows: SQLite would encode
          // a string again, and the in-memory tail needs the bytes anyway.
          const body = Buffer.from(text, 'utf8');
          insert.run(firstSeq, end - start, now, body, null);
          this.written?.push({ first_seq: firstSeq, count: end - start, created_ms: now, body, layouts: null });
          bytes += body.length;
          rows++;
        }
        this.stmts.setNextSeq.run(seq);
        if (seq > this.reservedTo) this.stmts.setMeta.run('seq_reserved_to', String(seq + seqBlockFor(seq - this.nextSeq)));
        return { nextSeq: seq, rows, bytes };
      }
      const w = this.rowWriter;
      let inRow = 0;
      let rowFirst = seq;
      let rowLayouts: string | null = null;
      const endRow = () => {
        bytes += w.length;
        // Bound as bytes (a BLOB in the TEXT column; claims read bodies as bytes either way).
        const body = w.take();
        insert.run(rowFirst, inRow, now, body, rowLayouts);
        // The writer's buffer is reused for the next row: the tail keeps a copy.
        this.written?.push({ first_seq: rowFirst, count: inRow, created_ms: now, body: Buffer.from(body), layouts: rowLayouts });
        rows++;
        inRow = 0;
        rowFirst = seq;
        rowLayouts = null;
      };
      const records = this.opts.packedAs === 'records';
      for (const item of items) {
        if (records && item instanceof PackedRun) {
          // A record is never split across rows (subscribers get whole polls), so a row may end
          // up to one poll past rowMaxReadings.
          const layout = this.storeLayout(item);
          if (inRow > 0) w.comma();
          w.record(item, layout, seq, unsynced);
          if (rowLayouts === null) rowLayouts = layout.id;
          else if (!(' ' + rowLayouts + ' ').includes(' ' + layout.id + ' ')) rowLayouts += ' ' + layout.id;
          seq += item.count;
          inRow += item.count;
          if (inRow >= rowMax) endRow();
        } else if (item instanceof PackedRun) {
          // A packed run may straddle rows: split it at the row boundary.
          for (let i = 0; i < item.count; ) {
            const take = Math.min(item.count - i, rowMax - inRow);
            if (inRow > 0) w.comma();
            w.packed(item, i, i + take, seq, unsynced);
            seq += take;
            inRow += take;
            i += take;
            if (inRow === rowMax) endRow();
          }
        } else {
          if (inRow > 0) w.comma();
          w.reading(item, seq++, unsynced);
          if (++inRow === rowMax) endRow();
        }
      }
      if (inRow > 0) endRow();
      this.stmts.setNextSeq.run(seq);
      if (seq > this.reservedTo) this.stmts.setMeta.run('seq_reserved_to', String(seq + seqBlockFor(seq - this.nextSeq)));
      return { nextSeq: seq, rows, bytes };
    });
  }

  /**
   * Everything a run hands out hangs on this synced write: the outbox id, the `running` mark, a
   * fresh seq block and the record of any skipped range. A new file is also checkpointed and its
   * directory synced, so a cut right after can never bring the gateway back under a new id.
   */
  private durablyOpen(isNew: boolean): void {
    const block = this.nextSeq + SEQ_BLOCK;
    this.synced(() =>
      this.db.transaction(() => {
        this.stmts.setMeta.run('outbox_id', this.outboxId);
        this.stmts.setMeta.run('running', '1');
        this.stmts.setMeta.run('running_durability', this.opts.durability);
        this.stmts.setMeta.run('seq_reserved_to', String(Math.max(block, this.reservedTo)));
        this.stmts.setNextSeq.run(this.nextSeq);
        const k = this.skipped;
        if (k) {
          this.stmts.insertSkip.run(k.fromSeq, k.toSeq, k.reason, k.ts);
          this.stmts.trimSkips.run();
        }
      })(),
    );
    this.reservedTo = Math.max(block, this.reservedTo);
    if (isNew) {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      fsyncDirectory(dirname(this.opts.path));
    }
  }

  /** Run `write` with this commit fsynced even in `normal` mode. */
  private synced<T>(write: () => T): T {
    if (this.opts.durability === 'strict') return write();
    this.db.pragma('synchronous = FULL');
    try {
      return write();
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
  }

  private prepare() {
    const db = this.db;
    const per = (sql: (t: string) => string) => ({
      event: db.prepare(sql(TABLE.event)),
      telemetry: db.prepare(sql(TABLE.telemetry)),
    });
    return {
      getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
      setMeta: db.prepare('INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      insertEvent: db.prepare('INSERT INTO events(first_seq, count, created_ms, body, layouts) VALUES (?, ?, ?, ?, ?)'),
      insertTelemetry: db.prepare('INSERT INTO telemetry(first_seq, count, created_ms, body, layouts) VALUES (?, ?, ?, ?, ?)'),
      insertLayout: db.prepare('INSERT OR IGNORE INTO layouts(id, json) VALUES (?, ?)'),
      getLayout: db.prepare('SELECT json FROM layouts WHERE id = ?'),
      setNextSeq: db.prepare(
        "INSERT INTO telemetry(first_seq, count, created_ms, body) VALUES (0, ?, 0, '') ON CONFLICT(first_seq) DO UPDATE SET count = excluded.count",
      ),
      getNextSeq: db.prepare('SELECT count FROM telemetry WHERE first_seq = 0'),
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
      insertDrop: db.prepare('INSERT INTO drops(from_seq, to_seq, readings, stream, reason, ts) VALUES (?, ?, ?, ?, ?, ?)'),
      trimDrops: db.prepare(`DELETE FROM drops WHERE id <= (SELECT max(id) FROM drops) - ${KEEP_DROP_RECORDS}`),
      lastDrops: db.prepare('SELECT from_seq, to_seq, readings, stream, reason, ts FROM drops ORDER BY id DESC LIMIT 10'),
      insertSkip: db.prepare('INSERT INTO skips(from_seq, to_seq, reason, ts) VALUES (?, ?, ?, ?)'),
      trimSkips: db.prepare(`DELETE FROM skips WHERE id <= (SELECT max(id) FROM skips) - ${KEEP_DROP_RECORDS}`),
      lastSkips: db.prepare('SELECT from_seq, to_seq, reason, ts FROM skips ORDER BY id DESC LIMIT 10'),
    };
  }

  private maxEndSeq(table: string): number {
    const row = this.db.prepare(`SELECT first_seq + count AS end FROM ${table} ORDER BY first_seq DESC LIMIT 1`).get() as
      | { end: number }
      | undefined;
    return row?.end ?? 1;
  }

  private scanTotals(stream: Stream): Totals {
    const row = this.db
      .prepare(`SELECT count(*) AS rows, coalesce(sum(count), 0) AS readings, coalesce(sum(length(body)), 0) AS bytes FROM ${TABLE[stream]} WHERE first_seq > 0`)
      .get() as Totals;
    return { rows: row.rows, readings: row.readings, bytes: row.bytes };
  }

  get id(): string {
    return this.outboxId;
  }

  /**
   * Commit readings in one transaction, assigning consecutive sequence numbers.
   * Throws OutboxFullError when the disk (or the page cap) is full: the readings are refused,
   * counted, and nothing already stored is touched. Returns the first sequence number assigned.
   */
  append(stream: Stream, items: readonly Committable[], now = Date.now()): number {
    const count = readingCount(items);
    if (count === 0) return this.nextSeq;
    if (!this.reserve.isHeld && !this.reserve.tryRestore()) {
      // The reserve went to draining: new readings would eat the space the acks need.
      this.refusedReadings += count;
      throw new OutboxFullError(`outbox ${this.opts.path} is full: draining before accepting new readings; refused ${count} readings`);
    }
    try {
      // A commit that would hand out seqs beyond the reserved block reserves the next one in the
      // same transaction, fsynced: no seq of it can be published before the reservation is durable.
      const crossing = this.nextSeq + count > this.reservedTo;
      this.written = this.tails[stream].complete ? [] : null;
      const done = crossing ? this.synced(() => this.appendTx(stream, items, now)) : this.appendTx(stream, items, now);
      if (this.written !== null) this.toTail(stream, this.written);
      this.written = null;
      if (crossing) this.reservedTo = done.nextSeq + seqBlockFor(count);
      // Only once COMMIT succeeded: a commit that fails (e.g. ENOSPC at COMMIT) rolls back, and
      // counters or the sequence moved inside the transaction body would then be wrong.
      const firstSeq = this.nextSeq;
      this.nextSeq = done.nextSeq;
      const t = this.totals[stream];
      t.readings += count;
      t.rows += done.rows;
      t.bytes += done.bytes;
      return firstSeq;
    } catch (err) {
      if (isDiskFull(err)) {
        this.refusedReadings += count;
        throw new OutboxFullError(
          `outbox ${this.opts.path} is full (${(err as Error).message}): refused ${count} readings`,
          { cause: err },
        );
      }
      throw err;
    }
  }

  /**
   * The oldest unclaimed rows of a stream, at least one row, within the given bounds. With
   * `holdMs`, a batch smaller than `maxReadings` whose oldest row is younger than that is not
   * claimed yet (null), so that at low rates readings travel in fewer, fuller messages.
   */
  claim(stream: Stream, maxReadings: number, maxBytes: number, holdMs = 0, now = Date.now()): ClaimedBatch | null {
    const tail = this.tails[stream];
    if (tail.complete) return this.claimRows(stream, tail.rows, tail.head, maxReadings, maxBytes, holdMs, now);
    const rows = this.stmts.claim[stream].iterate(this.claimCursor[stream]) as IterableIterator<ClaimRow>;
    const batch = this.claimRows(stream, rows, 0, maxReadings, maxBytes, holdMs, now);
    // Nothing unclaimed is left in SQLite: from here on, every unclaimed row is one committed next.
    if (batch === null && this.stmts.anyAfter[stream].get(this.claimCursor[stream]) === undefined && this.opts.claimFromMemory !== false) {
      this.tails[stream] = { ...emptyTail(), complete: true };
    }
    return batch;
  }

  /** The claim itself, over rows from SQLite or from the tail (`from` = first unclaimed index). */
  private claimRows(stream: Stream, source: Iterable<ClaimRow> | ClaimRow[], from: number, maxReadings: number, maxBytes: number, holdMs: number, now: number): ClaimedBatch | null {
    const bodies: Buffer[] = [];
    const layouts: Layout[] = [];
    let count = 0;
    let bytes = 0;
    let first: ClaimRow | undefined;
    let last: ClaimRow | undefined;
    // Lazily: a row can be ~50 KB and a batch needs only a handful; materialising a page of rows
    // per claim made a backlog drain spend its time copying and collecting bodies it threw away.
    const list = Array.isArray(source) ? source : null;
    const iterator = list === null ? (source as Iterable<ClaimRow>)[Symbol.iterator]() : null;
    let taken = 0;
    for (let i = from; ; i++) {
      let row: ClaimRow | undefined;
      if (list !== null) row = list[i];
      else {
        const next = iterator!.next();
        row = next.done ? undefined : next.value;
      }
      if (row === undefined) break;
      // The layouts a row adds travel in the same message, so they count against maxBytes.
      const added = row.layouts === null ? [] : this.newLayouts(row.layouts, layouts);
      let rowBytes = row.body.length;
      for (const l of added) rowBytes += l.entry.length + 1;
      if (bodies.length > 0 && (count + row.count > maxReadings || bytes + rowBytes > maxBytes)) break;
      first ??= row;
      bodies.push(row.body);
      layouts.push(...added);
      count += row.count;
      bytes += rowBytes;
      last = row;
      taken++;
    }
    // Stop SQLite's statement now rather than when the iterator is collected.
    iterator?.return?.();
    if (first === undefined || last === undefined) return null;
    if (holdMs > 0 && count < maxReadings && now - first.created_ms < holdMs) return null;
    this.claimCursor[stream] = last.first_seq;
    if (list !== null) this.takeFromTail(stream, taken);
    return {
      stream,
      fromKey: first.first_seq,
      toKey: last.first_seq,
      firstSeq: first.first_seq,
      lastSeq: last.first_seq + last.count - 1,
      count,
      bytes,
      bodies,
      layouts,
    };
  }

  /** Rows just committed join the tail, while it holds every unclaimed row and stays within bounds. */
  private toTail(stream: Stream, rows: ClaimRow[]): void {
    const tail = this.tails[stream];
    if (!tail.complete) return;
    for (const row of rows) {
      tail.rows.push(row);
      tail.bytes += row.body.length;
    }
    // The forwarder is behind (broker away, slow link): a backlog is SQLite's job.
    if (tail.bytes > TAIL_MAX_BYTES) this.dropTail(stream);
  }

  private takeFromTail(stream: Stream, n: number): void {
    const tail = this.tails[stream];
    for (let i = tail.head; i < tail.head + n; i++) tail.bytes -= tail.rows[i]!.body.length;
    tail.head += n;
    // Compact now and then rather than shifting on every claim.
    if (tail.head === tail.rows.length) {
      tail.rows = [];
      tail.head = 0;
    } else if (tail.head > 1024) {
      tail.rows = tail.rows.slice(tail.head);
      tail.head = 0;
    }
  }

  private dropTail(stream: Stream): void {
    this.tails[stream] = emptyTail();
  }

  /** The layout of a packed run, stored (in the running transaction) the first time it is seen. */
  private storeLayout(run: PackedRun): Layout {
    const layout = layoutOf(run.packed.points, run.device);
    if (!this.layouts.has(layout.id)) {
      this.stmts.insertLayout.run(layout.id, layout.json);
      this.layouts.set(layout.id, layout);
    }
    return layout;
  }

  /** Layouts named in a row's `ids` that are not yet in `have`. */
  private newLayouts(ids: string, have: readonly Layout[]): Layout[] {
    const out: Layout[] = [];
    for (const id of ids.split(' ')) {
      if (have.some((l) => l.id === id) || out.some((l) => l.id === id)) continue;
      let layout = this.layouts.get(id);
      if (layout === undefined) {
        const row = this.stmts.getLayout.get(id) as { json: string } | undefined;
        // Stored in the same transaction as every row naming it, so only a hand-edited file lacks it.
        if (row === undefined) throw new Error(`outbox ${this.opts.path}: a row names layout ${id}, which is not stored`);
        this.layouts.set(id, (layout = makeLayout(id, row.json)));
      }
      out.push(layout);
    }
    return out;
  }

  /** The broker has the batch: delete its rows. Safe to call twice or after retention. */
  ack(batch: Pick<ClaimedBatch, 'stream' | 'fromKey' | 'toKey'>): void {
    let removed: { count: number; bytes: number }[];
    try {
      removed = this.stmts.ack[batch.stream].all(batch.fromKey, batch.toKey) as { count: number; bytes: number }[];
    } catch (err) {
      // A full disk: give the reserve to SQLite so the delete (a WAL append) can go through.
      if (!isDiskFull(err) || !this.reserve.release()) throw wrapFull(err, this.opts.path, 'ack');
      try {
        removed = this.stmts.ack[batch.stream].all(batch.fromKey, batch.toKey) as { count: number; bytes: number }[];
      } catch (again) {
        throw wrapFull(again, this.opts.path, 'ack');
      }
    }
    this.subtract(batch.stream, removed);
    if (!this.reserve.isHeld) {
      // Draining a full disk: return freed pages to the filesystem and fold the WAL back and
      // truncate it, so what the deletes freed becomes space the reserve (then new readings) can use.
      try {
        this.db.pragma('incremental_vacuum');
        this.db.pragma('wal_checkpoint(TRUNCATE)');
      } catch {
        // Still too full to checkpoint; the next ack tries again.
      }
      this.reserve.tryRestore();
    }
  }

  /** Whether new readings are accepted; false while a full disk is being drained. */
  get accepting(): boolean {
    return this.reserve.isHeld;
  }

  /** Forget all claims: whatever was in flight is pending again (connection lost, restart). */
  release(): void {
    this.claimCursor.event = 0;
    this.claimCursor.telemetry = 0;
    // Claimed rows are pending again, and they are not in the tail: read them from SQLite.
    this.dropTail('event');
    this.dropTail('telemetry');
  }


  /**
   * Enforce the byte and age bounds. Bulk telemetry goes first, events only when telemetry alone
   * cannot bring the outbox under its bound. Every drop is recorded with its seq range.
   */
  enforceRetention(now = Date.now()): DropRecord[] {
    const drops: DropRecord[] = [];
    const { maxBytes, maxAgeMs } = this.opts.retention;
    for (const stream of ['telemetry', 'event'] as const) {
      for (;;) {
        const over = this.totals.event.bytes + this.totals.telemetry.bytes - maxBytes;
        const rows = this.stmts.oldestRows[stream].all(64) as { first_seq: number; count: number; bytes: number; created_ms: number }[];
        // Drop whole old rows, oldest first, until both bounds hold.
        let cut: (typeof rows)[number] | undefined;
        let freed = 0;
        let reason: DropRecord['reason'] = 'max-age';
        for (const row of rows) {
          const tooOld = now - row.created_ms > maxAgeMs;
          if (!tooOld && freed >= over) break;
          if (!tooOld) reason = 'max-bytes';
          cut = row;
          freed += row.bytes;
        }
        if (cut === undefined) break;
        const drop: DropRecord = {
          fromSeq: rows[0]!.first_seq,
          toSeq: cut.first_seq + cut.count - 1,
          readings: 0,
          stream,
          reason,
          ts: now,
        };
        const gone = this.db.transaction(() => {
          const deleted = this.stmts.deleteUpTo[stream].all(cut.first_seq) as { count: number; bytes: number }[];
          drop.readings = deleted.reduce((n, r) => n + r.count, 0);
          this.stmts.insertDrop.run(drop.fromSeq, drop.toSeq, drop.readings, stream, reason, now);
          this.stmts.trimDrops.run();
          this.stmts.setMeta.run('dropped_readings', String(this.droppedReadings + drop.readings));
          return deleted;
        })();
        this.subtract(stream, gone);
        // Dropped rows may still be in the tail, unclaimed: let claims read what SQLite has left.
        this.dropTail(stream);
        this.droppedReadings += drop.readings;
        drops.push(drop);
      }
    }
    return drops;
  }

  private subtract(stream: Stream, removed: { count: number; bytes: number }[]): void {
    const t = this.totals[stream];
    for (const r of removed) {
      t.rows--;
      t.readings -= r.count;
      t.bytes -= r.bytes;
    }
  }

  /** The sequence number the next committed reading gets. */
  get nextSequence(): number {
    return this.nextSeq;
  }

  stats(now = Date.now()): OutboxStats {
    const stream = (s: Stream): StreamStats => {
      const oldest = this.stmts.oldest[s].get() as { created_ms: number } | undefined;
      const t = this.totals[s];
      return {
        pendingReadings: t.readings,
        pendingRows: t.rows,
        pendingBytes: t.bytes,
        oldestPendingMs: oldest === undefined ? null : Math.max(0, now - oldest.created_ms),
      };
    };
    const event = stream('event');
    const telemetry = stream('telemetry');
    const ages = [event.oldestPendingMs, telemetry.oldestPendingMs].filter((a): a is number => a !== null);
    return {
      outboxId: this.outboxId,
      nextSeq: this.nextSeq,
      pendingReadings: event.pendingReadings + telemetry.pendingReadings,
      pendingBytes: event.pendingBytes + telemetry.pendingBytes,
      oldestPendingMs: ages.length === 0 ? null : Math.max(...ages),
      streams: { event, telemetry },
      droppedReadings: this.droppedReadings,
      refusedReadings: this.refusedReadings,
      lastDrops: (this.stmts.lastDrops.all() as { from_seq: number; to_seq: number; readings: number; stream: Stream; reason: DropRecord['reason']; ts: number }[]).map(
        (d) => ({ fromSeq: d.from_seq, toSeq: d.to_seq, readings: d.readings, stream: d.stream, reason: d.reason, ts: d.ts }),
      ),
      lastSkips: (this.stmts.lastSkips.all() as { from_seq: number; to_seq: number; reason: SkipRecord['reason']; ts: number }[]).map(
        (k) => ({ fromSeq: k.from_seq, toSeq: k.to_seq, reason: k.reason, ts: k.ts }),
      ),
    };
  }

  /**
   * The wall clock stepped by `deltaMs` (NTP correcting a box without RTC, a manual set). Rows
   * committed before the step carry timestamps from the old timebase; shift them so retention
   * by age measures how long data has waited, not how far the clock moved.
   */
  shiftAges(deltaMs: number, beforeSeq: number): void {
    this.db.transaction(() => {
      for (const t of Object.values(TABLE)) this.db.prepare(`UPDATE ${t} SET created_ms = created_ms + ? WHERE first_seq > 0 AND first_seq < ?`).run(deltaMs, beforeSeq);
    })();
    // The tail's copies carry the old ages (claims hold batches by age).
    this.dropTail('event');
    this.dropTail('telemetry');
  }

  /** Retention bounds may change on reload; nothing stored is touched until the next pass. */
  setRetention(retention: OutboxOptions['retention']): void {
    this.opts.retention = retention;
  }

  /** Count readings refused before they reached the outbox (e.g. the ingest queue overflowed). */
  countRefused(n: number): void {
    this.refusedReadings += n;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // A clean checkpoint leaves a single file behind, which is friendlier to copy off a box. It
    // also syncs the cleared `running` mark: if it never reaches the disk, the next start merely
    // skips to the reserved block, which is the safe side.
    try {
      try {
        this.stmts.setMeta.run('running', '0');
      } catch {
        // A full disk: the next start treats this stop as unclean and skips, the safe side.
      }
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.close();
    }
  }
}

function wrapFull(err: unknown, path: string, what: string): Error {
  if (!isDiskFull(err)) return err as Error;
  return new OutboxFullError(`outbox ${path} is full: ${what} failed (${(err as Error).message})`, { cause: err });
}

function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  return code === 'SQLITE_FULL' || code === 'SQLITE_IOERR_WRITE' || code === 'SQLITE_IOERR_FSYNC';
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

function emptyTail(): Tail {
  return { complete: false, rows: [], head: 0, bytes: 0 };
}
