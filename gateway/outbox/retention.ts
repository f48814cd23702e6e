import type Database from 'better-sqlite3';
import type { Stream } from '../model/stream.js';
import type { Pending } from './pending.js';
import type { RowSize, Statements } from './schema.js';
import type { DropRecord } from './store.js';

export interface RetentionBounds {
  maxBytes: number;
  maxAgeMs: number;
}

/**
 * Enforce the byte and age bounds. Bulk telemetry goes first, events only when telemetry alone
 * cannot bring the outbox under its bound. Every drop is recorded with its seq range;
 * `onDrop` hears of each after its transaction committed.
 */
export function enforceRetention(
  db: Database.Database,
  stmts: Statements,
  pending: Pending,
  bounds: RetentionBounds,
  droppedBefore: number,
  now: number,
  onDrop: (stream: Stream, drop: DropRecord) => void,
): DropRecord[] {
  const drops: DropRecord[] = [];
  let dropped = droppedBefore;
  const { maxBytes, maxAgeMs } = bounds;
  for (const stream of ['telemetry', 'event'] as const) {
    for (;;) {
      const over = pending.bytes - maxBytes;
      const rows = stmts.oldestRows[stream].all(64) as { first_seq: number; count: number; bytes: number; created_ms: number }[];
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
      const drop: DropRecord = { fromSeq: rows[0]!.first_seq, toSeq: cut.first_seq + cut.count - 1, readings: 0, stream, reason, ts: now };
      const gone = db.transaction(() => {
        const deleted = stmts.deleteUpTo[stream].all(cut.first_seq) as RowSize[];
        drop.readings = deleted.reduce((n, r) => n + r.count, 0);
        stmts.insertDrop.run(drop.fromSeq, drop.toSeq, drop.readings, stream, reason, now);
        stmts.trimDrops.run();
        stmts.setMeta.run('dropped_readings', String(dropped + drop.readings));
        return deleted;
      })();
      pending.removed(stream, gone);
      dropped += drop.readings;
      onDrop(stream, drop);
      drops.push(drop);
    }
  }
  return drops;
}
