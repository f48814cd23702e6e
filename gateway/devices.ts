import type { Logger } from 'pino';
import type { DeviceStatus, Driver } from '../drivers/driver.js';
import type { PackedReadings } from './model/packed-readings.js';
import { driverModuleFor, type DeviceConfig, type DriverModule } from '../drivers/registry.js';
import type { DriverReading } from './model/reading.js';
import { Secret } from '../drivers/kit/secret.js';
import { contained } from './contain.js';

/**
 * Runs one driver per configured device and keeps them apart: a driver that throws while
 * starting, emitting or stopping is logged by device id and marked failed, and the others keep
 * running. Also applies a new device list on reload, restarting only what changed.
 */
export interface DeviceSetOptions {
  log: Logger;
  /** Where readings go: the group commit. Never throws. */
  emit: (device: string, readings: readonly DriverReading[]) => void;
  /** Packed good readings (gateway/model/packed-readings.ts); without it drivers expand them for `emit`. */
  emitPacked?: (device: string, readings: readonly PackedReadings[]) => void;
  /** Resolves a config `type` to its driver module; the registry unless a test supplies drivers. */
  moduleFor?: (type: string) => DriverModule | undefined;
  /** Handed to drivers as ctx.stateDir (the outbox's directory). */
  stateDir?: string;
  /** Longest a driver's start() may take before the device is marked down and abandoned. */
  startTimeoutMs?: number;
  /** Longest a driver's stop() may take before it is abandoned so reload and shutdown go on. */
  stopTimeoutMs?: number;
}

/** Defaults sit well inside the unit's TimeoutStartSec=120 and TimeoutStopSec=30. */
export const DEFAULT_DRIVER_START_TIMEOUT_MS = 30_000;
export const DEFAULT_DRIVER_STOP_TIMEOUT_MS = 10_000;

interface Running {
  config: DeviceConfig;
  key: string;
  driver: Driver | null;
  stopped: boolean;
  /** Set when start() or stop() did not settle in time: the instance is no longer ours. */
  abandoned: boolean;
  /** Readings this instance emitted after it was stopped or abandoned; dropped, not stored. */
  lateReadingsDropped: number;
  failure: { code: string; message: string; ts: number } | null;
}

class DriverTimeoutError extends Error {
  constructor(
    readonly code: 'DRIVER_START_TIMEOUT' | 'DRIVER_STOP_TIMEOUT',
    message: string,
  ) {
    super(message);
  }
}

/** Settle with `work`, or reject with a DriverTimeoutError after `ms`; `work` is left running. */
function within<T>(work: Promise<T>, ms: number, code: DriverTimeoutError['code'], what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DriverTimeoutError(code, `${what} did not finish within ${ms} ms; the driver instance was abandoned`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export class DeviceSet {
  private readonly running = new Map<string, Running>();
  private lateReadingsDropped = 0;

  constructor(private readonly opts: DeviceSetOptions) {}

  private get startTimeoutMs(): number {
    return this.opts.startTimeoutMs ?? DEFAULT_DRIVER_START_TIMEOUT_MS;
  }

  private get stopTimeoutMs(): number {
    return this.opts.stopTimeoutMs ?? DEFAULT_DRIVER_STOP_TIMEOUT_MS;
  }

  /** Readings dropped because a stopped or abandoned driver instance emitted them anyway. */
  get droppedLateReadings(): number {
    return this.lateReadingsDropped;
  }

  /** Start, stop or restart devices so that the running set matches `devices`. */
  async apply(devices: readonly DeviceConfig[]): Promise<{ started: string[]; stopped: string[]; restarted: string[]; unchanged: string[] }> {
    const wanted = new Map(devices.filter((d) => d.enabled).map((d) => [d.id, d]));
    const result = { started: [] as string[], stopped: [] as string[], restarted: [] as string[], unchanged: [] as string[] };
    for (const [id, run] of this.running) {
      const next = wanted.get(id);
      if (!next) {
        await this.stopOne(run);
        this.running.delete(id);
        result.stopped.push(id);
      } else if (configKey(next) !== run.key) {
        await this.stopOne(run);
        this.running.delete(id);
        result.restarted.push(id);
      } else {
        result.unchanged.push(id);
      }
    }
    const starts: Promise<void>[] = [];
    for (const [id, config] of wanted) {
      if (this.running.has(id)) continue;
      if (!result.restarted.includes(id)) result.started.push(id);
      starts.push(this.startOne(config));
    }
    await Promise.all(starts);
    return result;
  }

  private async startOne(config: DeviceConfig): Promise<void> {
    const log = this.opts.log.child({ device: config.id, type: config.type });
    const run: Running = { config, key: configKey(config), driver: null, stopped: false, abandoned: false, lateReadingsDropped: 0, failure: null };
    this.running.set(config.id, run);
    const module = (this.opts.moduleFor ?? driverModuleFor)(config.type);
    // An error past the driver (in the commit path's consumers) is not the driver's to handle:
    // it would surface in the middle of a poll or a parser. Log it by device and carry on.
    const deliver = contained(log, { device: config.id }, 'delivering readings failed', (readings: readonly DriverReading[]) => this.opts.emit(config.id, readings));
    const deliverPacked = contained(log, { device: config.id }, 'delivering readings failed', (readings: readonly PackedReadings[]) => this.opts.emitPacked?.(config.id, readings));
    // A late emit from a driver that was told to stop (or was abandoned) must not reach the
    // outbox twice under a restarted instance's name: dropped and counted instead.
    const accepts = (count: number): boolean => {
      if (count === 0) return false;
      if (!run.stopped && !run.abandoned) return true;
      if (run.lateReadingsDropped === 0) log.warn({ readings: count }, 'driver emitted after it was stopped or abandoned; dropping its late readings');
      run.lateReadingsDropped += count;
      this.lateReadingsDropped += count;
      return false;
    };
    try {
      if (!module) throw Object.assign(new Error(`no driver for type ${config.type}`), { code: 'NO_DRIVER' });
      const factory = await module.load();
      const driver = factory(config as never, {
        deviceId: config.id,
        log,
        stateDir: this.opts.stateDir,
        emit: (readings) => {
          if (accepts(readings.length)) deliver(readings);
        },
        ...(this.opts.emitPacked
          ? {
              emitPacked: (readings: readonly PackedReadings[]) => {
                if (accepts(readings.reduce((n, r) => n + r.count, 0))) deliverPacked(readings);
              },
            }
          : {}),
      });
      run.driver = driver;
      const starting = Promise.resolve().then(() => driver.start());
      try {
        await within(starting, this.startTimeoutMs, 'DRIVER_START_TIMEOUT', 'start()');
      } catch (err) {
        if (err instanceof DriverTimeoutError) this.abandon(run, starting, log);
        throw err;
      }
      log.info('device started');
    } catch (err) {
      run.failure = { code: (err as { code?: string })?.code ?? 'START_FAILED', message: (err as Error)?.message ?? String(err), ts: Date.now() };
      log.error({ err, code: run.failure.code }, 'device failed to start; other devices keep running');
    }
  }

  /**
   * A start() that never settled: the instance is cut loose. Its late emits are dropped and
   * counted, and it is asked to stop (bounded too) so it can release its port or socket; what it
   * does after that can no longer reach the outbox or hold up the daemon.
   */
  private abandon(run: Running, starting: Promise<void>, log: Logger): void {
    run.abandoned = true;
    starting.then(
      () => {
        log.warn('abandoned driver finally finished starting; stopping it again, the device stays down until its config changes');
        if (run.driver) void this.stopWithin(run, run.driver, log);
      },
      (err: unknown) => log.warn({ err }, 'abandoned driver finally failed to start'),
    );
    const driver = run.driver;
    if (driver) void this.stopWithin(run, driver, log);
  }

  private async stopWithin(run: Running, driver: Driver, log: Logger): Promise<void> {
    const stopping = Promise.resolve().then(() => driver.stop());
    try {
      await within(stopping, this.stopTimeoutMs, 'DRIVER_STOP_TIMEOUT', 'stop()');
    } catch (err) {
      if (err instanceof DriverTimeoutError) {
        run.abandoned = true;
        stopping.catch(() => undefined);
        log.error({ code: err.code, stopTimeoutMs: this.stopTimeoutMs }, 'device did not stop in time: abandoned it (its late readings are dropped); reload and shutdown go on');
      } else {
        log.error({ err }, 'device failed to stop cleanly');
      }
    }
  }

  private async stopOne(run: Running): Promise<void> {
    run.stopped = true;
    if (!run.driver || run.abandoned) return;
    await this.stopWithin(run, run.driver, this.opts.log.child({ device: run.config.id, type: run.config.type }));
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running.values()].map((r) => this.stopOne(r)));
    this.running.clear();
  }

  /** A configured device's running driver (null while it is down), for the command channel. */
  driverOf(id: string): { config: DeviceConfig; driver: Driver | null } | undefined {
    const run = this.running.get(id);
    if (!run) return undefined;
    return { config: run.config, driver: run.failure || run.abandoned || run.stopped ? null : run.driver };
  }

  statuses(): Record<string, DeviceStatus & { type: string }> {
    const out: Record<string, DeviceStatus & { type: string }> = {};
    for (const [id, run] of this.running) {
      let status: DeviceStatus;
      try {
        status = run.failure || !run.driver
          ? { state: 'down', lastGoodTs: null, lastError: run.failure, counters: run.abandoned ? { lateReadingsDropped: run.lateReadingsDropped } : {} }
          : run.driver.status();
      } catch (err) {
        status = { state: 'down', lastGoodTs: null, lastError: { code: 'STATUS_FAILED', message: (err as Error).message, ts: Date.now() }, counters: {} };
      }
      out[id] = { type: run.config.type, ...status };
    }
    return out;
  }
}

/**
 * Stable identity of a device's config: same key, same device, no restart on reload. `report` is
 * left out: the core applies it outside the driver (gateway/report/), so a new deadband takes
 * effect on reload without dropping the device's connection. A Secret
 * serialises as [redacted], so it is keyed by its fingerprint: a new password (inline, or a
 * rotated passwordFile read again by the reload) restarts the device.
 */
function configKey(config: DeviceConfig): string {
  const { report: _report, ...driverConfig } = config;
  return JSON.stringify(driverConfig, function (this: Record<string, unknown>, k: string, v: unknown) {
    const raw = this[k];
    if (raw instanceof Secret) return `secret:${raw.fingerprint()}`;
    return v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v;
  });
}
