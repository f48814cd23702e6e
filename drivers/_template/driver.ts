import { readFile } from 'node:fs/promises';
import type { DeviceStatus, Driver, DriverContext, DriverFactory } from '../driver.js';
import { DeviceStateLog } from '../kit/device-state-log.js';
import { PollLoop } from '../kit/poll-loop.js';
import { PollSchedule } from '../kit/poll-schedule.js';
import type { TemplateDevice } from './schema.js';

/**
 * TEMPLATE driver: a poll loop built from the kit. Each tick reads the device and emits one
 * reading; a failure emits one bad reading when the point goes bad (not one per poll) and shows
 * in status(). Nothing here knows about SQLite or MQTT: readings go to `ctx.emit`.
 */
export const createTemplateDriver: DriverFactory<TemplateDevice> = (config, ctx) => new TemplateDriver(config, ctx);

class TemplateDriver implements Driver {
  private readonly poller: PollLoop;
  private readonly stateLog: DeviceStateLog;
  private readonly counters = { polls: 0, errors: 0, overruns: 0 };
  private lastGoodTs: number | null = null;
  private bad = false;

  constructor(
    private readonly config: TemplateDevice,
    private readonly ctx: DriverContext,
  ) {
    this.stateLog = new DeviceStateLog(ctx, 'template device', { path: config.path });
    this.poller = new PollLoop(ctx.log, 'template poll loop', () => this.stateLog.set('down'));
  }

  async start(): Promise<void> {
    this.poller.start(() => this.run());
  }

  async stop(): Promise<void> {
    await this.poller.stop();
    this.stateLog.set('stopped');
  }

  status(): DeviceStatus {
    return this.stateLog.status(this.lastGoodTs, this.counters, { path: this.config.path });
  }

  private async run(): Promise<void> {
    const schedule = new PollSchedule(this.config.intervalMs);
    while (!this.poller.stopping) {
      await this.pollOnce(Date.now());
      const { waitMs, skipped } = schedule.afterPoll();
      this.counters.overruns += skipped;
      await this.poller.sleep(waitMs);
    }
  }

  private async pollOnce(ts: number): Promise<void> {
    this.counters.polls++;
    const { point, unit, scale } = this.config;
    try {
      const text = await readFile(this.config.path, 'utf8');
      const n = Number(text.trim());
      if (text.trim() === '' || !Number.isFinite(n)) throw Object.assign(new Error(`${this.config.path}: not a number`), { code: 'BAD_VALUE' });
      if (this.poller.stopping) return;
      this.bad = false;
      this.lastGoodTs = ts;
      this.ctx.emit([{ point, value: n * scale, quality: 'good', ts, ...(unit ? { unit } : {}) }]);
      this.stateLog.set('ok');
    } catch (err) {
      const e = err as Error & { code?: string };
      const error = this.stateLog.recordError({ code: e.code ?? 'READ_FAILED', message: e.message });
      this.counters.errors++;
      if (!this.bad && !this.poller.stopping) this.ctx.emit([{ point, value: null, quality: 'bad', ts, attrs: { error: error.code } }]);
      this.bad = true;
      this.stateLog.set('down', error);
    }
  }
}
