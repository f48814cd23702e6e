import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { encodeReading } from '../gateway/payload/encode.js';
import { RowWriter } from '../gateway/payload/row-writer.js';
import { layoutOf } from '../gateway/payload/layouts.js';
import { PackedRun } from '../gateway/model/packed-run.js';
import type { PackedReadings } from '../gateway/model/packed-readings.js';
import { batchPayload } from '../gateway/payload/envelope.js';
import type { ClaimedBatch } from '../gateway/model/claimed-batch.js';
import type { Reading } from '../gateway/model/reading.js';
import { CpuWindow } from './proc-stats.js';
import { buildChunks } from './workload.js';

/**
 * The physical limits on this machine, measured with the same libraries and table shape the
 * gateway uses but none of its code: what SQLite can insert and drain, and what mqtt.js can get
 * acknowledged by the broker. The gateway's figures are then stated as fractions of these.
 */

export interface InsertLimit {
  readingsPerS: number;
  rowsPerS: number;
  mbPerS: number;
  readingsPerRow: number;
  readingsPerTransaction: number;
}

export interface DrainLimit {
  readings: number;
  seconds: number;
  readingsPerS: number;
  rowsPerBatch: number;
}

export interface PublishLimit {
  readingsPerS: number;
  messagesPerS: number;
  mbPerS: number;
  payloadBytes: number;
  readingsPerMessage: number;
  inflightWindow: number;
  /** mosquitto's CPU while we published, % of one core (null if its pid was not found). */
  brokerCpuPercent: number | null;
  /** Share of wall time this process's event loop was busy: near 1 means the client was the bound. */
  clientLoopUtilization: number;
}

const TABLE_DDL = `CREATE TABLE telemetry (first_seq INTEGER PRIMARY KEY, count INTEGER NOT NULL, created_ms INTEGER NOT NULL, body TEXT NOT NULL)`;

function sampleReadings(n: number): Reading[] {
  const chunks = buildChunks(Math.ceil(n / 125));
  return chunks.flatMap((c) => c.readings.map((r) => ({ ...r, device: c.device }))).slice(0, n);
}

/** A run of `n` readings encoded exactly as the outbox stores it. */
export function encodedRun(n: number, firstSeq = 1_000_000): string {
  return sampleReadings(n)
    .map((r, i) => encodeReading(r, firstSeq + i, false))
    .join(',');
}

/**
 * `n` values encoded as payload-v2 poll records of 125 values each (one Modbus request's worth),
 * written by the outbox's own RowWriter, with the same sample values as `encodedRun`.
 */
export function encodedRecords(n: number, firstSeq = 1_000_000): string {
  const values = sampleReadings(n).map((r) => (typeof r.value === 'number' ? r.value : 0));
  const w = new RowWriter();
  const names = Array.from({ length: 125 }, (_, i) => `r.${i}`);
  for (let at = 0; at < n; at += 125) {
    const slice = values.slice(at, at + 125);
    const packed: PackedReadings = { points: { names: names.slice(0, slice.length), units: [] }, count: slice.length, ts: 1_764_061_200_050, value: (i) => slice[i]! };
    const run = new PackedRun('bench-dev', packed);
    if (at > 0) w.comma();
    w.record(run, layoutOf(packed.points, run.device), firstSeq + at, false);
  }
  return w.take().toString('utf8');
}

function openScratch(dir: string, name: string): Database.Database {
  const db = new Database(join(dir, name));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(TABLE_DDL);
  return db;
}

/**
 * Insert pre-encoded rows in transactions of `perTransaction` readings, in `rounds` rounds of
 * `durationMs` each, into a fresh database per round; the best round is the limit (on a shared
 * machine the slower rounds measure the neighbours, not SQLite).
 * `perRow` 1 is the one-row-per-reading design the outbox avoids; `perRow` = rowMaxReadings is
 * the outbox's own shape.
 */
export function measureInsert(dir: string, perRow: number, perTransaction: number, durationMs: number, rounds = 3, encoding: 'readings' | 'records' = 'readings'): InsertLimit {
  let best: InsertLimit | null = null;
  for (let i = 0; i < rounds; i++) {
    const r = insertRound(dir, `insert-${perRow}-${i}.db`, perRow, perTransaction, durationMs, encoding);
    if (best === null || r.readingsPerS > best.readingsPerS) best = r;
    // A round can write hundreds of MB; do not keep them around for the next one.
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, `insert-${perRow}-${i}.db${suffix}`), { force: true });
  }
  return best!;
}

function insertRound(dir: string, file: string, perRow: number, perTransaction: number, durationMs: number, encoding: 'readings' | 'records'): InsertLimit {
  const db = openScratch(dir, file);
  try {
    const body = encoding === 'records' ? encodedRecords(perRow) : encodedRun(perRow);
    const insert = db.prepare('INSERT INTO telemetry(first_seq, count, created_ms, body) VALUES (?, ?, ?, ?)');
    const rowsPerTx = Math.max(1, Math.floor(perTransaction / perRow));
    const tx = db.transaction((firstSeq: number, now: number) => {
      let seq = firstSeq;
      for (let i = 0; i < rowsPerTx; i++) {
        insert.run(seq, perRow, now, body);
        seq += perRow;
      }
      return seq;
    });
    let seq = 1;
    let rows = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < durationMs) {
      seq = tx(seq, Date.now());
      rows += rowsPerTx;
      elapsed = performance.now() - start;
    }
    const s = elapsed / 1000;
    return {
      readingsPerS: (rows * perRow) / s,
      rowsPerS: rows / s,
      mbPerS: (rows * body.length) / s / 1e6,
      readingsPerRow: perRow,
      readingsPerTransaction: rowsPerTx * perRow,
    };
  } finally {
    db.close();
  }
}

/** Fill `readings` into rows of `perRow`, then time reading the oldest batch and deleting it, as the forwarder does per PUBACK. */
export function measureDrain(dir: string, readings: number, perRow: number, batchReadings: number, batchMaxBytes: number): DrainLimit {
  const db = openScratch(dir, 'drain.db');
  try {
    const body = encodedRun(perRow);
    const insert = db.prepare('INSERT INTO telemetry(first_seq, count, created_ms, body) VALUES (?, ?, ?, ?)');
    const rows = Math.ceil(readings / perRow);
    db.transaction(() => {
      for (let i = 0; i < rows; i++) insert.run(1 + i * perRow, perRow, Date.now(), body);
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
    // The forwarder's claim is bounded by readings and by bytes; so is this.
    const rowsPerBatch = Math.max(1, Math.min(Math.floor(batchReadings / perRow), Math.floor(batchMaxBytes / body.length)));
    const oldest = db.prepare('SELECT first_seq, count, body FROM telemetry WHERE first_seq > ? ORDER BY first_seq LIMIT ?');
    const del = db.prepare('DELETE FROM telemetry WHERE first_seq BETWEEN ? AND ?');
    let cursor = -1;
    let drained = 0;
    const start = performance.now();
    for (;;) {
      const batch = oldest.all(cursor, rowsPerBatch) as { first_seq: number; count: number; body: string }[];
      if (batch.length === 0) break;
      const last = batch[batch.length - 1]!;
      del.run(batch[0]!.first_seq, last.first_seq);
      for (const r of batch) drained += r.count;
      cursor = last.first_seq;
    }
    const s = (performance.now() - start) / 1000;
    return { readings: drained, seconds: s, readingsPerS: drained / s, rowsPerBatch };
  } finally {
    db.close();
  }
}

/** QoS 1 publishes of full-size batch payloads with a fixed in-flight window, for `durationMs`. */
export async function measurePublish(
  url: string,
  opts: { batchReadings: number; batchMaxBytes: number; perRow: number; inflightWindow: number; durationMs: number; brokerPid: number | null },
): Promise<PublishLimit> {
  const rowsWanted = Math.ceil(opts.batchReadings / opts.perRow);
  const rowBody = encodedRun(opts.perRow);
  // The forwarder caps a batch by bytes as well as by readings; so does this.
  const rows = Math.max(1, Math.min(rowsWanted, Math.floor(opts.batchMaxBytes / (rowBody.length + 1))));
  const batch: ClaimedBatch = {
    stream: 'telemetry',
    fromKey: 1,
    toKey: 1,
    firstSeq: 1_000_000,
    lastSeq: 1_000_000 + rows * opts.perRow - 1,
    count: rows * opts.perRow,
    bytes: rows * rowBody.length,
    bodies: new Array<Buffer>(rows).fill(Buffer.from(rowBody)),
    layouts: [],
  };
  const payload = batchPayload('bench-gw', 'raw-limit', 'raw-1', batch, Date.now());
  const client = await mqtt.connectAsync(url, { clientId: `bench-raw-publish-${process.pid}`, clean: true, reconnectPeriod: 0 });
  try {
    const brokerCpu = opts.brokerPid === null ? null : new CpuWindow(opts.brokerPid);
    const elu0 = performance.eventLoopUtilization();
    const start = performance.now();
    let acked = 0;
    let inflight = 0;
    await new Promise<void>((resolve, reject) => {
      const pump = (): void => {
        while (inflight < opts.inflightWindow && performance.now() - start < opts.durationMs) {
          inflight++;
          client.publish('bench/raw/telemetry', payload, { qos: 1 }, (err) => {
            inflight--;
            if (err) return reject(new Error(`raw publish failed: ${err.message}`, { cause: err }));
            acked++;
            if (inflight === 0 && performance.now() - start >= opts.durationMs) resolve();
            else pump();
          });
        }
      };
      pump();
    });
    const s = (performance.now() - start) / 1000;
    const elu = performance.eventLoopUtilization(elu0);
    return {
      readingsPerS: (acked * batch.count) / s,
      messagesPerS: acked / s,
      mbPerS: (acked * Buffer.byteLength(payload)) / s / 1e6,
      payloadBytes: Buffer.byteLength(payload),
      readingsPerMessage: batch.count,
      inflightWindow: opts.inflightWindow,
      brokerCpuPercent: brokerCpu?.percentOfCore() ?? null,
      clientLoopUtilization: elu.utilization,
    };
  } finally {
    await client.endAsync(true);
  }
}

export interface Limits {
  insertRunPerRow: InsertLimit;
  insertRowPerReading: InsertLimit;
  /** Rows of payload-v2 poll records (125 values each): the limit for a gateway set to payloadVersion 2. */
  insertRecords: InsertLimit;
  drain: DrainLimit;
  publish: PublishLimit;
}

export async function measureLimits(opts: {
  brokerUrl: string;
  brokerPid: number | null;
  rowMaxReadings: number;
  commitMaxReadings: number;
  batchMaxReadings: number;
  batchMaxBytes: number;
  inflightWindow: number;
  drainReadings: number;
  /** Per insert round (three per shape); the publish limit runs twice as long. */
  durationMs: number;
  tmpRoot: string;
}): Promise<Limits> {
  const dir = mkdtempSync(join(opts.tmpRoot, 'edge-gw-bench-limits-'));
  try {
    const insertRunPerRow = measureInsert(dir, opts.rowMaxReadings, opts.commitMaxReadings, opts.durationMs);
    const insertRowPerReading = measureInsert(dir, 1, opts.commitMaxReadings, opts.durationMs);
    const insertRecords = measureInsert(dir, opts.rowMaxReadings, opts.commitMaxReadings, opts.durationMs, 3, 'records');
    const drain = measureDrain(dir, opts.drainReadings, opts.rowMaxReadings, opts.batchMaxReadings, opts.batchMaxBytes);
    const publish = await measurePublish(opts.brokerUrl, {
      batchReadings: opts.batchMaxReadings,
      batchMaxBytes: opts.batchMaxBytes,
      perRow: opts.rowMaxReadings,
      inflightWindow: opts.inflightWindow,
      durationMs: opts.durationMs * 2,
      brokerPid: opts.brokerPid,
    });
    return { insertRunPerRow, insertRowPerReading, insertRecords, drain, publish };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
