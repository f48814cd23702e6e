import type { ClaimRow } from './schema.js';

/** Most bytes the in-memory tail of a stream holds; past it, claims read SQLite (a backlog). */
export const TAIL_MAX_BYTES = 4 * 1024 * 1024;

/**
 * Rows committed and not yet claimed, in order, held in memory while they are *all* such rows of
 * the stream (`complete`). When the forwarder keeps up, a claim is served from here without a
 * query: reading back what was just written cost a tenth of the poll path. Anything that makes
 * the copy incomplete or stale (a claim falling behind past the bound, release, retention,
 * shifted ages) drops it, and claims read SQLite until they have caught up again.
 */
export class MemoryTail {
  complete = false;
  rows: ClaimRow[] = [];
  /** Index of the first unclaimed row in `rows` (claimed ones are dropped in bulk). */
  head = 0;
  private bytes = 0;

  /** SQLite has nothing unclaimed left: from now on every unclaimed row is one committed next. */
  start(): void {
    this.drop();
    this.complete = true;
  }

  /** Rows just committed join the tail, while it holds every unclaimed row and stays within bounds. */
  add(rows: readonly ClaimRow[]): void {
    if (!this.complete) return;
    for (const row of rows) {
      this.rows.push(row);
      this.bytes += row.body.length;
    }
    // The forwarder is behind (broker away, slow link): a backlog is SQLite's job.
    if (this.bytes > TAIL_MAX_BYTES) this.drop();
  }

  /** The first `n` unclaimed rows were claimed. */
  take(n: number): void {
    for (let i = this.head; i < this.head + n; i++) this.bytes -= this.rows[i]!.body.length;
    this.head += n;
    // Compact now and then rather than shifting on every claim.
    if (this.head === this.rows.length) {
      this.rows = [];
      this.head = 0;
    } else if (this.head > 1024) {
      this.rows = this.rows.slice(this.head);
      this.head = 0;
    }
  }

  /** The copy is incomplete or stale: claims read SQLite until they catch up. */
  drop(): void {
    this.complete = false;
    this.rows = [];
    this.head = 0;
    this.bytes = 0;
  }
}
