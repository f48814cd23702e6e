import { getHeapStatistics } from 'node:v8';
import type { DeviceStatus } from '../drivers/driver.js';
import type { ForwarderStats } from './forwarder/forwarder.js';
import type { GroupCommitStats } from './group-commit.js';
import type { ReportStats } from './report/filter.js';
import type { CommandStats } from './commands/channel.js';
import type { OutboxStats } from './outbox/store.js';
import type { ConfigStandingReport } from './config/standing.js';
import { versionInfo, type VersionInfo } from './version.js';

/**
 * The periodic health message (`<prefix>/<gateway>/health`, retained) and the same object
 * served to `edge-gateway status`. Documented in docs/payload.md.
 */
export interface HealthReport {
  v: 1;
  gateway: string;
  ts: number;
  uptimeS: number;
  /** Which code runs: package version, Node.js, outbox schema version. */
  version: VersionInfo;
  /** Whether the config that runs is the one on disk: a rejected reload or a start on the last good config shows here. */
  config: ConfigStandingReport;
  clock: { synced: boolean };
  outbox: {
    id: string;
    nextSeq: number;
    pendingReadings: number;
    pendingBytes: number;
    pendingEvents: number;
    oldestPendingMs: number | null;
    /** Readings deliberately dropped by retention, with their seq ranges: not loss, a known gap. */
    dropped: { readings: number; ranges: [number, number][] };
    /** Seq ranges skipped after unclean stops (power cut): never delivered, declared, not loss in transit. */
    skipped: { ranges: [number, number][] };
    /** Readings that could not be committed (disk full) and never got a sequence number. */
    refused: number;
    /** Acknowledged readings kept for replay (outbox.keepAcked). */
    kept: { readings: number; bytes: number };
    /** Readings per second acknowledged by the broker over the last interval. */
    drainRatePerS: number;
    /** At that rate, how long the current backlog takes to drain; null while nothing drains. */
    drainEtaS: number | null;
  };
  broker: {
    connected: boolean;
    url: string | null;
    connects: number;
    lastError: string | null;
    inflightBatches: number;
    /** While disconnected and waiting: when the next connection attempt starts (epoch ms). */
    nextAttemptAtMs: number | null;
    /** What the broker sent that the gateway refused (docs/operations.md, SECURITY.md). */
    inbound: {
      /** Messages dropped: on topics not subscribed, over the size limit, over the rate or queue limit. */
      dropped: { unsolicited: number; tooLarge: number; overLimit: number };
      /** Connections closed for a packet over the size limit or against the protocol, and the last one. */
      violations: number;
      lastViolation: string | null;
      /** Seconds reading from the broker was paused because it sent faster than the read budget. */
      throttledS: number;
    };
  };
  /** The group commit between drivers and the outbox: readings waiting for the next window, commits, refusals. */
  commit: GroupCommitStats;
  /** Report by exception (only when a device has a `report:` block): readings sent as changes, held back, sent as heartbeats, since start. */
  report?: ReportStats;
  devices: Record<string, DeviceStatus & { type: string }>;
  /** The command channel: journal totals (durable) and what this process saw since start. */
  commands?: CommandStats;
  process: { rssBytes: number; heapUsedBytes: number };
}

let lastRssBytes = 0;

/**
 * process.memoryUsage() reads /proc/self and throws EMFILE when the process is out of file
 * descriptors (e.g. flooded with connections under a low `LimitNOFILE`). Health must still be
 * published then: the heap figure comes from V8 (no file needed), RSS is the last one read.
 */
function memoryUsage(): { rss: number; heapUsed: number } {
  try {
    const m = process.memoryUsage();
    lastRssBytes = m.rss;
    return m;
  } catch {
    return { rss: lastRssBytes, heapUsed: getHeapStatistics().used_heap_size };
  }
}

export function buildHealth(input: {
  gateway: string;
  startedMs: number;
  now: number;
  clockSynced: boolean;
  outbox: OutboxStats;
  forwarder: ForwarderStats;
  commit: GroupCommitStats;
  report?: ReportStats;
  devices: HealthReport['devices'];
  commands?: CommandStats;
  drainRatePerS: number;
  config: ConfigStandingReport;
}): HealthReport {
  const { outbox, forwarder } = input;
  const mem = memoryUsage();
  return {
    v: 1,
    gateway: input.gateway,
    ts: input.now,
    uptimeS: Math.round((input.now - input.startedMs) / 1000),
    version: versionInfo(),
    config: input.config,
    clock: { synced: input.clockSynced },
    outbox: {
      id: outbox.outboxId,
      nextSeq: outbox.nextSeq,
      pendingReadings: outbox.pendingReadings,
      pendingBytes: outbox.pendingBytes,
      pendingEvents: outbox.streams.event.pendingReadings,
      oldestPendingMs: outbox.oldestPendingMs,
      dropped: { readings: outbox.droppedReadings, ranges: outbox.lastDrops.map((d) => [d.fromSeq, d.toSeq]) },
      skipped: { ranges: outbox.lastSkips.map((k) => [k.fromSeq, k.toSeq]) },
      refused: outbox.refusedReadings,
      kept: { readings: outbox.keptReadings ?? 0, bytes: outbox.keptBytes ?? 0 },
      drainRatePerS: Math.round(input.drainRatePerS),
      drainEtaS: input.drainRatePerS > 0 && outbox.pendingReadings > 0 ? Math.ceil(outbox.pendingReadings / input.drainRatePerS) : null,
    },
    broker: {
      connected: forwarder.connected,
      url: forwarder.broker,
      connects: forwarder.connects,
      lastError: forwarder.lastError?.message ?? null,
      inflightBatches: forwarder.inflightBatches,
      nextAttemptAtMs: forwarder.nextAttemptAtMs,
      inbound: {
        dropped: { unsolicited: forwarder.inbound.unsolicited, tooLarge: forwarder.inbound.tooLarge, overLimit: forwarder.inbound.overLimit },
        violations: forwarder.inbound.violations,
        lastViolation: forwarder.inbound.lastViolation?.message ?? null,
        throttledS: Math.round(forwarder.inbound.throttledMs / 1000),
      },
    },
    commit: input.commit,
    ...(input.report && { report: input.report }),
    devices: input.devices,
    ...(input.commands && { commands: input.commands }),
    process: { rssBytes: mem.rss, heapUsedBytes: mem.heapUsed },
  };
}
