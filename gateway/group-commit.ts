import type { Logger } from 'pino';
import type { Reading } from './model/reading.js';
import { OutboxFullError } from './model/outbox-full.js';
import type { Stream } from './model/stream.js';
import type { ReadingSink } from './outbox/store.js';
import type { PackedReadings } from './model/packed-readings.js';
import { expandAll, PackedRun, type Committable } from './model/packed-run.js';

/** Readings committed in one append: their seqs are firstSeq, firstSeq + 1, ... */
export interface CommittedRun {
  stream: Stream;
  firstSeq: number;
  readings: readonly Reading[];
}

export interface GroupCommitOptions {
  outbox: ReadingSink;
  intervalMs: number;
  maxReadings: number;
  log: Logger;
  /** Called after each successful commit, e.g. to wake the forwarder and feed `tail`. */
  onCommit?: (committed: CommittedRun[]) => void;
}

export interface GroupCommitStats {
  /** Readings collected and not yet committed. */
  waiting: number;
  commits: number;
  /** Appends the outbox refused (disk full or I/O error); their readings are counted as refused. */
  failures: number;
  outboxFull: boolean;
  /** Readings whose timestamp was not a number, kept with the gateway time and quality uncertain. */
  invalidTimestamps: number;
}

/**
 * Collects what drivers emit and commits it to the outbox in one transaction per window
 * (`intervalMs`) or as soon as `maxReadings` are waiting. One fsync-bearing transaction per
 * window rather than per poll is what keeps SD-card writes low; the window is also the most a
 * crash can lose of readings that were never committed.
 */
export class GroupCommit {
  private pending: Record<Stream, Committable[]> = { event: [], telemetry: [] };
  private size = 0;
  private timer: NodeJS.Timeout | null = null;
  private lastCommitMs = Date.now();
  private commits = 0;
  private failures = 0;
  private fullSinceMs: number | null = null;
  private invalidTimestamps = 0;
  private readonly invalidTsDevices = new Set<string>();

  constructor(private readonly opts: GroupCommitOptions) {}

  add(reading: Reading): void {
    this.queue(Number.isFinite(reading.ts) ? reading : this.repairTimestamp(reading));
    this.size++;
    this.afterAdd(reading.kind === 'event');
  }

  /** The driver's reading objects stay the driver's: each is queued as a copy attributed to `device`. */
  addMany(device: string, readings: readonly Omit<Reading, 'device'>[]): void {
    for (const r of readings) {
      const reading: Reading = { ...r, device };
      this.queue(Number.isFinite(reading.ts) ? reading : this.repairTimestamp(reading));
    }
    this.size += readings.length;
    this.afterAdd(readings.some((r) => r.kind === 'event'));
  }

  /**
   * Packed good readings (gateway/model/packed-readings.ts): telemetry, ts taken by the driver's
   * clock. A run whose timestamp is not a number gets the same rule as a plain reading: its
   * readings go in one by one, with the gateway's time, quality uncertain (a packed run is good
   * by construction, so it cannot carry that quality itself).
   */
  addPacked(device: string, runs: readonly PackedReadings[]): void {
    let n = 0;
    for (const p of runs) {
      if (p.count === 0) continue;
      const run = new PackedRun(device, p);
      if (Number.isFinite(p.ts)) this.pending.telemetry.push(run);
      else for (const r of run.expand()) this.queue(this.repairTimestamp(r));
      n += p.count;
    }
    if (n === 0) return;
    this.size += n;
    this.afterAdd(false);
  }

  private queue(reading: Reading): void {
    (reading.kind === 'event' ? this.pending.event : this.pending.telemetry).push(reading);
  }

  /**
   * The ingest edge's timestamp rule. A timestamp computed from a device clock (OPC-UA source
   * time, an RTC register pair, NMEA date) can come out NaN. The reading is kept with the
   * gateway's time, marked uncertain, and counted; the first one per device is logged.
   */
  private repairTimestamp(reading: Reading): Reading {
    this.invalidTimestamps++;
    if (!this.invalidTsDevices.has(reading.device)) {
      this.invalidTsDevices.add(reading.device);
      this.opts.log.warn({ device: reading.device, point: reading.point, ts: String(reading.ts) }, 'reading with an invalid timestamp: kept with the gateway time, quality uncertain');
    }
    return { ...reading, ts: Date.now(), quality: reading.quality === 'good' ? 'uncertain' : reading.quality };
  }

  private afterAdd(urgent: boolean): void {
    if (this.size >= this.opts.maxReadings) this.flush();
    // Events (a scan at a parking gate) should not wait out a long telemetry window.
    else if (urgent) this.schedule(Math.min(this.opts.intervalMs, 10));
    else this.schedule(this.opts.intervalMs);
  }

  private schedule(ms: number): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, ms);
  }

  /** Commit everything waiting. Called on the timer, on size, and on shutdown. */
  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.size === 0) return;
    const batch = this.pending;
    this.pending = { event: [], telemetry: [] };
    this.size = 0;
    const committed: CommittedRun[] = [];
    for (const stream of ['event', 'telemetry'] as const) {
      const readings = batch[stream];
      if (readings.length === 0) continue;
      try {
        const firstSeq = this.opts.outbox.append(stream, readings);
        committed.push(committedRun(stream, firstSeq, readings));
      } catch (err) {
        this.failures++;
        if (err instanceof OutboxFullError) {
          // Refused and counted by the outbox; log once per episode, not once per window.
          if (this.fullSinceMs === null) {
            this.fullSinceMs = Date.now();
            this.opts.log.error({ err, refused: readings.length }, 'outbox full: refusing new readings until space returns; stored readings are untouched');
          }
        } else {
          this.opts.outbox.countRefused(readings.length);
          this.opts.log.error({ err, refused: readings.length, stream }, 'outbox commit failed: readings refused and counted');
        }
      }
    }
    if (committed.length > 0) {
      if (this.fullSinceMs !== null) {
        this.opts.log.warn({ fullForMs: Date.now() - this.fullSinceMs }, 'outbox accepts readings again');
        this.fullSinceMs = null;
      }
      this.commits++;
      this.lastCommitMs = Date.now();
      this.opts.onCommit?.(committed);
    }
  }

  /** For the watchdog: the writer is alive if it committed recently or has nothing to do. */
  isAlive(now = Date.now(), graceMs = 10_000): boolean {
    return this.size === 0 || now - this.lastCommitMs < graceMs + this.opts.intervalMs;
  }

  stats(): GroupCommitStats {
    return { waiting: this.size, commits: this.commits, failures: this.failures, outboxFull: this.fullSinceMs !== null, invalidTimestamps: this.invalidTimestamps };
  }
}

/** Packed runs are expanded into reading objects only if a consumer (`tail`) asks for them. */
function committedRun(stream: Stream, firstSeq: number, items: Committable[]): CommittedRun {
  if (!items.some((i) => i instanceof PackedRun)) return { stream, firstSeq, readings: items as Reading[] };
  let expanded: Reading[] | null = null;
  return {
    stream,
    firstSeq,
    get readings() {
      return (expanded ??= expandAll(items));
    },
  };
}
