import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { DeviceConfig } from '../../drivers/registry.js';
import type { CommandsConfig } from '../config/commands-schema.js';
import type { DeviceSet } from '../devices.js';
import { parseInbound, type Command } from './command-message.js';
import { CommandRunner, type CommandReport } from './command-runner.js';
import { DeviceTargets } from './device-targets.js';
import { CommandJournal, type JournalEntry } from './journal.js';
import { ReplayHandler, type ReplayHandlerOptions } from './replay.js';
import type { TrustedKey } from './signature.js';

/**
 * Everything the command direction needs, owned in one place by the daemon: the journal beside
 * the outbox, the declared points, the runner. The broker route and the technician's verb both
 * come in through `submit`, so a hand-made write takes exactly the path a remote one does.
 */
export interface CommandChannelOptions {
  gatewayId: string;
  stateDir: string;
  config: CommandsConfig;
  keys: readonly TrustedKey[];
  devices: Pick<DeviceSet, 'driverOf'>;
  clockSynced: () => boolean;
  /** Outcomes go upstream as events through the outbox (durable, sequenced). */
  report: (r: CommandReport) => void;
  /** Where replay requests read kept rows and publish them; without it they are refused. */
  replay?: Pick<ReplayHandlerOptions, 'source' | 'publish' | 'batchMaxReadings' | 'batchMaxBytes'>;
  log: Logger;
}

export interface CommandStats {
  enabled: boolean;
  /** Public keys are set: signed commands are required where points ask for them. */
  signed: boolean;
  writablePoints: number;
  /** Since this process started (duplicates are answered, never journaled). */
  sinceStart: ReturnType<CommandRunner['stats']>;
  /** Every command the journal holds, by outcome: the local audit, across restarts. */
  journal: ReturnType<CommandJournal['counts']>;
}

export const JOURNAL_FILE = 'commands.db';
/** A technician's command waits at most this long for its device. */
const LOCAL_EXPIRY_MS = 10_000;
/** How often ids past their window are pruned from the journal. */
const PRUNE_EVERY_MS = 60_000;

export class CommandChannel {
  readonly journal: CommandJournal;
  readonly targets: DeviceTargets;
  readonly runner: CommandRunner;
  readonly replay: ReplayHandler | null;
  private pruneTimer: NodeJS.Timeout | null = null;
  private closing = false;

  constructor(private readonly opts: CommandChannelOptions) {
    this.journal = new CommandJournal({
      path: join(opts.stateDir, JOURNAL_FILE),
      // Twice the longest expiry: a copy of a command is recognised for as long as it could be fresh.
      keepMs: 2 * opts.config.maxExpiryAhead,
      maxRows: opts.config.journalMaxRows,
    });
    this.targets = new DeviceTargets(opts.devices);
    this.runner = new CommandRunner({
      gatewayId: opts.gatewayId,
      journal: this.journal,
      targets: this.targets,
      keys: opts.keys,
      maxExpiryAheadMs: opts.config.maxExpiryAhead,
      gatewayRate: opts.config.rate,
      clockSynced: opts.clockSynced,
      report: opts.report,
      log: opts.log,
    });
    this.replay = opts.replay
      ? new ReplayHandler({ ...opts.replay, journal: this.journal, maxExpiryAheadMs: opts.config.maxExpiryAhead, report: opts.report, log: opts.log })
      : null;
  }

  /** Report what a crash cut off, then prune on a timer. Call once the outbox takes events. */
  start(devices: readonly DeviceConfig[]): void {
    this.targets.update(devices);
    this.runner.recoverInterrupted();
    this.journal.prune(Date.now());
    this.pruneTimer = setInterval(() => {
      try {
        this.journal.prune(Date.now());
      } catch (err) {
        this.opts.log.error({ err }, 'pruning the command journal failed');
      }
    }, PRUNE_EVERY_MS);
    this.pruneTimer.unref();
  }

  /** The device list changed (reload): which points are declared writable changes with it. */
  update(devices: readonly DeviceConfig[]): void {
    this.targets.update(devices);
  }

  submit(payload: Buffer | string, source: Command['source']): Promise<CommandReport> {
    if (this.closing) return Promise.resolve({ id: null, outcome: 'rejected', reason: 'shutting-down: the gateway is stopping; nothing was recorded or done' });
    const inbound = parseInbound(payload, source);
    if (inbound.kind === 'command') return this.runner.handle(inbound.parsed);
    // A replay request is not a device write: its own handler, the same journal and outcomes.
    if (this.replay === null) return Promise.resolve(this.reportRefusal(inbound.parsed.ok ? inbound.parsed.replay.id : inbound.parsed.id, 'not-enabled: this gateway keeps no acknowledged readings to replay'));
    return this.replay.handle(inbound.parsed);
  }

  private reportRefusal(id: string | null, reason: string): CommandReport {
    const r: CommandReport = { id, outcome: 'rejected', device: '_gateway', action: 'replay', reason };
    this.opts.report(r);
    return r;
  }

  /**
   * A technician's write or pulse (the actuate socket): the same checks, journal and outcome
   * event as a remote command, with an id and a short expiry made here.
   */
  local(req: { device: string; point: string; action: 'write'; value: number | boolean } | { device: string; point: string; action: 'pulse'; durationMs?: number }): Promise<CommandReport> {
    const now = Date.now();
    const message = { v: 1, id: `local-${now.toString(36)}-${randomBytes(4).toString('hex')}`, expiresAt: now + LOCAL_EXPIRY_MS, ...req };
    return this.submit(JSON.stringify(message), 'local');
  }

  recent(limit: number, device?: string): JournalEntry[] {
    return this.journal.recent(limit, device);
  }

  stats(): CommandStats {
    return {
      enabled: this.opts.config.enabled,
      signed: this.opts.keys.length > 0,
      writablePoints: this.targets.all().length,
      sinceStart: this.runner.stats(),
      journal: this.journal.counts(),
    };
  }

  /** After the devices stopped: let started commands record their outcome, then close the journal. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    await this.runner.settle();
    await this.replay?.settle();
    this.journal.close();
  }
}

/** A command outcome as event attributes: flat, no undefined (payload.md's attrs rule). */
export function outcomeAttrs(r: CommandReport): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(r)) {
    if (k === 'outcome' || v === undefined || v === null) continue;
    out[k] = v as string | number | boolean;
  }
  return out;
}
