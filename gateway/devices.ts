import type { Logger } from 'pino';
import type { DeviceStatus, Driver } from '../drivers/driver.js';
import { driverModuleFor, type DeviceConfig, type DriverModule } from '../drivers/registry.js';
import type { DriverReading } from '../drivers/reading.js';

/**
 * Runs one driver per configured device and keeps them apart: a driver that throws while
 * starting, emitting or stopping is logged by device id and marked failed, and the others keep
 * running. Also applies a new device list on reload, restarting only what changed.
 */
export interface DeviceSetOptions {
  log: Logger;
  /** Where readings go: the group commit. Never throws. */
  emit: (device: string, readings: readonly DriverReading[]) => void;
  /** Resolves a config `type` to its driver module; the registry unless a test supplies drivers. */
  moduleFor?: (type: string) => DriverModule | undefined;
}

interface Running {
  config: DeviceConfig;
  key: string;
  driver: Driver | null;
  stopped: boolean;
  failure: { code: string; message: string; ts: number } | null;
}

export class DeviceSet {
  private readonly running = new Map<string, Running>();

  constructor(private readonly opts: DeviceSetOptions) {}

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
    const run: Running = { config, key: configKey(config), driver: null, stopped: false, failure: null };
    this.running.set(config.id, run);
    const module = (this.opts.moduleFor ?? driverModuleFor)(config.type);
    try {
      if (!module) throw Object.assign(new Error(`no driver for type ${config.type}`), { code: 'NO_DRIVER' });
      const factory = await module.load();
      const driver = factory(config as never, {
        deviceId: config.id,
        log,
        emit: (readings) => {
          // A late emit from a driver that was told to stop must not reach the outbox twice
          // under a restarted instance's name.
          if (run.stopped || readings.length === 0) return;
          this.opts.emit(config.id, readings);
        },
      });
      run.driver = driver;
      await driver.start();
      log.info('device started');
    } catch (err) {
      run.failure = { code: (err as { code?: string }).code ?? 'START_FAILED', message: (err as Error).message, ts: Date.now() };
      log.error({ err }, 'device failed to start; other devices keep running');
    }
  }

  private async stopOne(run: Running): Promise<void> {
    run.stopped = true;
    if (!run.driver) return;
    try {
      await run.driver.stop();
    } catch (err) {
      this.opts.log.error({ err, device: run.config.id }, 'device failed to stop cleanly');
    }
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running.values()].map((r) => this.stopOne(r)));
    this.running.clear();
  }

  statuses(): Record<string, DeviceStatus & { type: string }> {
    const out: Record<string, DeviceStatus & { type: string }> = {};
    for (const [id, run] of this.running) {
      let status: DeviceStatus;
      try {
        status = run.failure || !run.driver
          ? { state: 'down', lastGoodTs: null, lastError: run.failure, counters: {} }
          : run.driver.status();
      } catch (err) {
        status = { state: 'down', lastGoodTs: null, lastError: { code: 'STATUS_FAILED', message: (err as Error).message, ts: Date.now() }, counters: {} };
      }
      out[id] = { type: run.config.type, ...status };
    }
    return out;
  }
}

/** Stable identity of a device's config: same key, same device, no restart on reload. */
function configKey(config: DeviceConfig): string {
  return JSON.stringify(config, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}
