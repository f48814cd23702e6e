import type { Stream } from '../model/stream.js';
import type { RowSize, Statements } from './schema.js';
import type { DropRecord, OutboxStats, SkipRecord, StreamStats } from './store.js';

interface Totals {
  readings: number;
  rows: number;
  bytes: number;
}

/**
 * What is pending, per stream, kept in step with every commit and delete (scanned once at open),
 * and the stats built from it.
 */
export class Pending {
  private readonly totals: Record<Stream, Totals>;

  constructor(private readonly stmts: Statements) {
    const scan = (s: Stream): Totals => {
      const row = stmts.totals[s].get() as Totals;
      return { rows: row.rows, readings: row.readings, bytes: row.bytes };
    };
    this.totals = { event: scan('event'), telemetry: scan('telemetry') };
  }

  get bytes(): number {
    return this.totals.event.bytes + this.totals.telemetry.bytes;
  }

  added(stream: Stream, readings: number, rows: number, bytes: number): void {
    const t = this.totals[stream];
    t.readings += readings;
    t.rows += rows;
    t.bytes += bytes;
  }

  removed(stream: Stream, rows: readonly RowSize[]): void {
    const t = this.totals[stream];
    for (const r of rows) {
      t.rows--;
      t.readings -= r.count;
      t.bytes -= r.bytes;
    }
  }

  stats(now: number, counters: { outboxId: string; nextSeq: number; droppedReadings: number; refusedReadings: number }): OutboxStats {
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
      ...counters,
      pendingReadings: event.pendingReadings + telemetry.pendingReadings,
      pendingBytes: event.pendingBytes + telemetry.pendingBytes,
      oldestPendingMs: ages.length === 0 ? null : Math.max(...ages),
      streams: { event, telemetry },
      lastDrops: (this.stmts.lastDrops.all() as { from_seq: number; to_seq: number; readings: number; stream: Stream; reason: DropRecord['reason']; ts: number }[]).map(
        (d) => ({ fromSeq: d.from_seq, toSeq: d.to_seq, readings: d.readings, stream: d.stream, reason: d.reason, ts: d.ts }),
      ),
      lastSkips: (this.stmts.lastSkips.all() as { from_seq: number; to_seq: number; reason: SkipRecord['reason']; ts: number }[]).map(
        (k) => ({ fromSeq: k.from_seq, toSeq: k.to_seq, reason: k.reason, ts: k.ts }),
      ),
    };
  }
}
