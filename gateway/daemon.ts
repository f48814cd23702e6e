import { GATEWAY_DEVICE } from './gateway-device.js';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError, formatProblem, loadConfigAsync, type ConfigProblem, type GatewayConfig } from './config/load.js';
import { gatewayFileSchema } from './config/gateway-schema.js';
import { changedSettings, restartOnlyPaths } from './config/restart-only.js';
import { ConfigStanding } from './config/standing.js';
import { contained } from './contain.js';
import { CommandChannel, outcomeAttrs } from './commands/channel.js';
import { DeviceSet } from './devices.js';
import { StateWatch } from './state-watch.js';
import { driverModuleFor } from '../drivers/registry.js';
import { Forwarder } from './forwarder/forwarder.js';
import { DEFAULT_INBOUND_LIMITS } from './forwarder/inbound/inbound-guard.js';
import { topicsFor, type Topics } from './forwarder/topics.js';
import { GroupCommit, type CommittedRun } from './group-commit.js';
import { processIdentity } from './forwarder/identity.js';
import { buildHealth, type HealthReport } from './health.js';
import { Outbox } from './outbox/outbox.js';
import type { DropRecord } from './outbox/store.js';
import { rowEncoder } from './payload/encode.js';
import { ReportFilter } from './report/filter.js';
import { reportStatePath, takeReportState, writeReportState } from './report/state-file.js';
import type { Reading } from './model/reading.js';
import { announcement, lineagePath, readLineage, writeLineage } from './outbox/lineage.js';

/**
 * The daemon wires the data path together: drivers → group commit → outbox → forwarder → broker.
 * Start order is outbox first (nothing may be emitted before it can be stored), then the
 * forwarder, then devices; stop order is the reverse, with a final flush in between.
 */

// Its own module (gateway-device.ts) so technician commands can name it without loading the daemon.
export { GATEWAY_DEVICE };

export interface DaemonHooks {
  /** Called with every committed batch of readings, e.g. for `edge-gateway tail`. */
  onCommit?: (committed: CommittedRun[]) => void;
  clockSynced?: () => boolean;
  /** Checks the wall clock for a step; returns the step in ms (0 if none). Run before retention. */
  clockStep?: () => number;
  /** Whether the running config is the one on disk (a start on the last good one says so here). */
  configStanding?: ConfigStanding;
  /** A reload accepted the files on disk (e.g. to keep them as the last good config). */
  onConfigAccepted?: (config: GatewayConfig) => void;
}

/** Settings a reload cannot apply to a running daemon; a change to them waits for a restart. */
export const RESTART_KEYS = restartOnlyPaths(gatewayFileSchema);

export type ReloadResult =
  /** `problems` describes the first ones; `total` counts them all (a generated file may have thousands). */
  | { ok: false; problems: ConfigProblem[]; total: number }
  | { ok: true; started: string[]; stopped: string[]; restarted: string[]; unchanged: string[]; restartNeeded: string[] };

export class Daemon {
  readonly startedMs = Date.now();
  readonly topics: Topics;
  readonly outbox: Outbox;
  readonly groupCommit: GroupCommit;
  readonly forwarder: Forwarder;
  readonly devices: DeviceSet;
  private readonly stateWatch: StateWatch;
  /** Report by exception (devices with a `report:` block), between the drivers and the group commit. */
  readonly report: ReportFilter;
  readonly configStanding: ConfigStanding;
  readonly commands: CommandChannel;
  private config: GatewayConfig;
  private timers: NodeJS.Timeout[] = [];
  private healthTimer: NodeJS.Timeout | null = null;
  private reloading: Promise<ReloadResult> | null = null;
  private lastAcked = { ts: Date.now(), readings: 0 };
  private drainRatePerS = 0;
  private stopped = false;
  private readonly onCommitHook: (committed: CommittedRun[]) => void;
  private readonly retentionTick: () => void;
  private readonly healthTick: () => void;

  private constructor(
    config: GatewayConfig,
    private readonly log: Logger,
    private readonly hooks: DaemonHooks,
  ) {
    this.config = config;
    this.configStanding = hooks.configStanding ?? new ConfigStanding();
    this.retentionTick = contained(log, { timer: 'retention' }, 'retention timer failed', () => this.enforceRetention());
    this.healthTick = contained(log, { timer: 'health' }, 'health timer failed', () => this.publishHealth());
    this.onCommitHook = contained(log, { component: 'control' }, 'feeding committed readings to tail clients failed', (c: CommittedRun[]) => hooks.onCommit?.(c));
    const g = config.gateway;
    this.topics = topicsFor(g.mqtt.topicPrefix, g.gateway.id);
    this.outbox = new Outbox({
      path: g.outbox.path,
      durability: g.outbox.durability,
      rowMaxReadings: Math.min(g.outbox.rowMaxReadings, g.forward.batchMaxReadings),
      retention: { maxBytes: g.outbox.retention.maxBytes, maxAgeMs: g.outbox.retention.maxAge },
      maxFileBytes: g.outbox.maxFileBytes,
      keepAcked: { maxAgeMs: g.outbox.keepAcked, maxBytes: g.outbox.keepAckedMaxBytes },
      reserveBytes: g.outbox.reserveBytes,
      clockSynced: hooks.clockSynced,
      encoder: rowEncoder(g.forward.payloadVersion),
    });
    this.groupCommit = new GroupCommit({
      outbox: this.outbox,
      intervalMs: g.outbox.commitInterval,
      maxReadings: g.outbox.commitMaxReadings,
      log: log.child({ component: 'group-commit' }),
      onCommit: (committed) => {
        this.forwarder.wake();
        // A failing consumer (a `tail` client) must not look like a failed commit to a driver.
        this.onCommitHook(committed);
      },
    });
    this.forwarder = new Forwarder({
      outbox: this.outbox,
      gatewayId: g.gateway.id,
      topics: this.topics,
      urls: g.mqtt.urls,
      clientId: g.mqtt.clientId ?? `edge-gateway-${g.gateway.id}`,
      username: g.mqtt.username,
      password: config.secrets.mqttPassword?.reveal(),
      tls: g.mqtt.tls && {
        ca: g.mqtt.tls.caFile ? readFileSync(g.mqtt.tls.caFile) : undefined,
        cert: g.mqtt.tls.certFile ? readFileSync(g.mqtt.tls.certFile) : undefined,
        key: g.mqtt.tls.keyFile ? readFileSync(g.mqtt.tls.keyFile.path) : undefined,
        rejectUnauthorized: g.mqtt.tls.rejectUnauthorized,
        servername: g.mqtt.tls.servername,
      },
      keepaliveMs: g.mqtt.keepalive,
      connectTimeoutMs: g.mqtt.connectTimeout,
      reconnect: g.mqtt.reconnect,
      batchMaxReadings: g.forward.batchMaxReadings,
      batchMaxBytes: g.forward.batchMaxBytes,
      batchMaxWaitMs: g.forward.batchMaxWait,
      inflightWindow: g.forward.inflightWindow,
      payloadVersion: g.forward.payloadVersion,
      compression: g.forward.compression,
      identity: processIdentity(g.gateway.site),
      // Commands come in on the same connection, through the forwarder's inbound bounds. The
      // handler does not wait for the device: the runner bounds what waits (MAX_IN_FLIGHT).
      inbound: g.commands.enabled ? { filters: [this.topics.commands], handle: (m) => void this.commands.submit(m.payload, 'mqtt') } : undefined,
      // The command topic is the only inbound route: a commands.rate raised above the guard's
      // default must raise the guard too, or messages past 20/s are dropped unanswered.
      inboundLimits: {
        messagesPerS: Math.max(DEFAULT_INBOUND_LIMITS.messagesPerS, g.commands.rate.perSecond),
        burst: Math.max(DEFAULT_INBOUND_LIMITS.burst, g.commands.rate.burst),
      },
      log: log.child({ component: 'forwarder' }),
    });
    this.report = new ReportFilter(restoreReportState(reportStatePath(dirname(g.outbox.path)), log));
    this.report.configure(config.devices);
    this.devices = new DeviceSet({
      log,
      emit: (device, readings) => {
        const send = this.report.readings(device, readings);
        if (send.length > 0) this.groupCommit.addMany(device, send);
      },
      emitPacked: (device, readings) => {
        const send = this.report.packed(device, readings);
        if (send.runs.length > 0) this.groupCommit.addPacked(device, send.runs);
        if (send.readings.length > 0) this.groupCommit.addMany(device, send.readings);
      },
      stateDir: dirname(g.outbox.path),
      startTimeoutMs: g.drivers.startTimeout,
      stopTimeoutMs: g.drivers.stopTimeout,
    });
    // State events (ok/degraded/down, with the reason) for the families that do not send their own.
    this.stateWatch = new StateWatch({
      statuses: () => this.devices.statuses(),
      reportsItself: (type) => driverModuleFor(type)?.emitsStateEvents === true,
      emit: (device, readings) => this.groupCommit.addMany(device, readings),
    });
    this.commands = new CommandChannel({
      gatewayId: g.gateway.id,
      stateDir: dirname(g.outbox.path),
      config: g.commands,
      keys: config.commandKeys,
      devices: this.devices,
      clockSynced: () => hooks.clockSynced?.() ?? true,
      // Outcomes are events: durable and sequenced through the outbox, delivered after an outage.
      report: (r) => this.gatewayEvent('command', r.outcome, outcomeAttrs(r)),
      replay:
        g.outbox.keepAcked > 0
          ? { source: this.outbox, publish: (batch) => this.forwarder.publishReplay(batch), batchMaxReadings: g.forward.batchMaxReadings, batchMaxBytes: g.forward.batchMaxBytes }
          : undefined,
      log: log.child({ component: 'commands' }),
    });
  }

  static async start(config: GatewayConfig, log: Logger, hooks: DaemonHooks = {}): Promise<Daemon> {
    const d = new Daemon(config, log, hooks);
    const stats = d.outbox.stats();
    log.info(
      { gateway: config.gateway.gateway.id, outbox: config.gateway.outbox.path, pending: stats.pendingReadings, nextSeq: stats.nextSeq, devices: config.devices.length },
      'outbox open',
    );
    if (!d.outbox.accepting) {
      log.error(
        { reserve: `${config.gateway.outbox.path}.reserve`, reserveBytes: config.gateway.outbox.reserveBytes },
        'outbox disk is nearly full: could not set aside its drain reserve; new readings are refused until twice the reserve is free (free space, or lower outbox.reserveBytes on a very small filesystem)',
      );
    }
    if (d.outbox.quarantine) {
      const q = d.outbox.quarantine;
      log.error({ movedTo: q.movedTo, reason: q.reason }, 'outbox database was corrupt: quarantined it and started a fresh one');
      d.gatewayEvent('outbox.quarantined', q.movedTo, { reason: q.reason, continuedSeq: q.inheritedNextSeq !== null });
    }
    d.announceOutbox();
    if (d.outbox.skipped) {
      const k = d.outbox.skipped;
      log.warn({ fromSeq: k.fromSeq, toSeq: k.toSeq, reason: k.reason }, 'outbox skipped seqs after an unclean stop');
      d.gatewayEvent('outbox.skipped', k.toSeq - k.fromSeq + 1, { fromSeq: k.fromSeq, toSeq: k.toSeq, reason: k.reason });
    }
    // Interrupted commands are reported, and the declared points known, before the forwarder can
    // deliver a new command; one arriving while its device still starts fails as DEVICE_DOWN.
    d.commands.start(config.devices);
    d.forwarder.start();
    await d.devices.apply(config.devices);
    d.stateWatch.start();
    d.timers.push(setInterval(d.retentionTick, 1000));
    d.healthTimer = setInterval(d.healthTick, config.gateway.health.interval);
    return d;
  }

  /**
   * Say on the wire when this outbox is not the one that was here before (moved aside, deleted,
   * quarantined), with the previous id and last seq from the lineage file beside the outbox.
   * A failure to read or write that file costs the announcement, never the start.
   */
  private announceOutbox(): void {
    const path = lineagePath(this.config.gateway.outbox.path);
    try {
      const a = announcement(readLineage(path), { id: this.outbox.id, nextSeq: this.outbox.nextSequence, quarantined: this.outbox.quarantine !== null });
      if (a) {
        this.log.warn({ outbox: a.value, ...a.attrs }, 'a new outbox (new seq space) started');
        this.gatewayEvent(a.point, a.value, a.attrs);
      }
      writeLineage(path, { outbox: this.outbox.id, lastSeq: this.outbox.nextSequence - 1, clean: false });
    } catch (err) {
      this.log.warn({ err: (err as Error).message, path }, 'could not read or write the outbox lineage file');
    }
  }

  /** A reading about the gateway itself, sent as an event so it overtakes any backlog. */
  gatewayEvent(point: string, value: Reading['value'], attrs?: Reading['attrs']): void {
    this.groupCommit.add({ device: GATEWAY_DEVICE, point, value, quality: 'good', ts: Date.now(), kind: 'event', attrs });
  }

  private seqAtLastClockCheck = 0;

  private enforceRetention(): void {
    // A clock step must be known before ages are judged, or a forward step would make a fresh
    // backlog look expired.
    const step = this.hooks.clockStep?.() ?? 0;
    if (step !== 0) {
      this.outbox.shiftAges(step, this.seqAtLastClockCheck);
      this.gatewayEvent('clock.jump', step, { synced: this.hooks.clockSynced?.() ?? true });
    }
    this.seqAtLastClockCheck = this.outbox.nextSequence;
    let drops: DropRecord[];
    try {
      drops = this.outbox.enforceRetention();
    } catch (err) {
      this.log.error({ err }, 'retention pass failed');
      return;
    }
    for (const d of drops) {
      this.log.warn(d, 'retention dropped buffered readings');
      this.gatewayEvent('outbox.dropped', d.readings, { fromSeq: d.fromSeq, toSeq: d.toSeq, stream: d.stream, reason: d.reason });
    }
  }

  health(): HealthReport {
    const now = Date.now();
    const forwarder = this.forwarder.stats();
    const dt = (now - this.lastAcked.ts) / 1000;
    if (dt >= 1) {
      this.drainRatePerS = (forwarder.readingsAcked - this.lastAcked.readings) / dt;
      this.lastAcked = { ts: now, readings: forwarder.readingsAcked };
    }
    return buildHealth({
      gateway: this.config.gateway.gateway.id,
      startedMs: this.startedMs,
      now,
      clockSynced: this.hooks.clockSynced?.() ?? true,
      outbox: this.outbox.stats(now),
      forwarder,
      commit: this.groupCommit.stats(),
      ...(this.report.active && { report: this.report.stats() }),
      devices: this.devices.statuses(),
      commands: this.commands.stats(),
      drainRatePerS: this.drainRatePerS,
      config: this.configStanding.report(),
    });
  }

  publishHealth(): void {
    this.forwarder.publishHealth(this.health(), this.config.gateway.health.interval);
  }

  get currentConfig(): GatewayConfig {
    return this.config;
  }

  /**
   * Re-read the config directory. An invalid config changes nothing: the old one keeps running,
   * every problem is logged with file and line, and a `config.error` event goes upstream. A valid
   * one restarts only the devices whose config changed; the outbox and forwarder are untouched,
   * so nothing buffered is lost or reordered. Concurrent reloads share one pass.
   */
  reload(): Promise<ReloadResult> {
    this.reloading ??= this.reloadOnce().finally(() => (this.reloading = null));
    return this.reloading;
  }

  private async reloadOnce(): Promise<ReloadResult> {
    let next: GatewayConfig;
    try {
      // Parsed in a worker thread, a turn for the event loop between files: devices and commits
      // keep running while a large config loads.
      next = await loadConfigAsync(this.config.dir);
    } catch (err) {
      const problems: ConfigProblem[] =
        err instanceof ConfigError ? err.problems : [{ file: this.config.dir, line: null, path: '', message: (err as Error).message }];
      const total = err instanceof ConfigError ? err.total : problems.length;
      for (const p of problems) this.log.error({ file: p.file, line: p.line, key: p.path }, `reload rejected: ${formatProblem(p)}`);
      this.log.error({ problems: total }, 'reload rejected: invalid config, still running the previous one');
      this.configStanding.reject(problems, 'reload');
      this.gatewayEvent('config.error', total, { first: formatProblem(problems[0]!).slice(0, 500) });
      return { ok: false, problems, total };
    }
    for (const w of next.warnings) this.log.warn({ file: w.file, line: w.line, key: w.path }, `config warning: ${formatProblem(w)}`);
    const restartNeeded = changedSettings(RESTART_KEYS, this.config.gateway, next.gateway);
    this.report.configure(next.devices);
    const applied = await this.devices.apply(next.devices);
    this.commands.update(next.devices);
    const g = next.gateway;
    this.log.level = g.log.level;
    this.outbox.setRetention({ maxBytes: g.outbox.retention.maxBytes, maxAgeMs: g.outbox.retention.maxAge });
    if (g.health.interval !== this.config.gateway.health.interval && this.healthTimer) {
      clearInterval(this.healthTimer);
      this.healthTimer = setInterval(this.healthTick, g.health.interval);
    }
    // Sections that need a restart keep their running values until then.
    const kept = this.config.gateway;
    this.config = { ...next, gateway: { ...g, gateway: kept.gateway, mqtt: kept.mqtt, forward: kept.forward, control: kept.control, clock: kept.clock, commands: kept.commands, drivers: kept.drivers, outbox: { ...kept.outbox, retention: g.outbox.retention } }, secrets: this.config.secrets, commandKeys: this.config.commandKeys };
    this.configStanding.accept(null);
    this.hooks.onConfigAccepted?.(next);
    if (restartNeeded.length > 0) this.log.warn({ settings: restartNeeded }, 'changed settings take effect only after a restart (systemctl restart edge-gateway)');
    this.log.info({ ...applied }, 'config reloaded');
    return { ok: true, ...applied, restartNeeded };
  }

  /** Stop devices, commit what they emitted, let in-flight batches finish, close the outbox. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    if (this.healthTimer) clearInterval(this.healthTimer);
    // Devices first: an output mid-pulse goes to its shutdown level, and the pulse's outcome is
    // committed with the final flush below.
    this.stateWatch.stop();
    await this.devices.stopAll();
    await this.commands.close();
    this.groupCommit.flush();
    // After the last commit: what report-by-exception sent is now exactly what the outbox holds.
    if (this.report.sentStates().size > 0) {
      try {
        writeReportState(reportStatePath(dirname(this.config.gateway.outbox.path)), this.report.sentStates());
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'could not write the report-by-exception state; the first reading of every point is sent after the restart');
      }
    }
    await this.forwarder.stop();
    // After the last commit: the seq the next outbox would have to follow, exact on a clean stop.
    try {
      writeLineage(lineagePath(this.config.gateway.outbox.path), { outbox: this.outbox.id, lastSeq: this.outbox.nextSequence - 1, clean: true });
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not write the outbox lineage file');
    }
    this.outbox.close();
    this.log.info('stopped');
  }
}

/** The state a clean stop left (report/state-file.ts); a file that cannot be used costs one reading per point, never the start. */
function restoreReportState(path: string, log: Logger): ReturnType<typeof takeReportState> {
  try {
    return takeReportState(path);
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'report-by-exception state unusable; the first reading of every point is sent');
    return null;
  }
}

