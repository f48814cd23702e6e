import type { DeviceState, DeviceStatus } from '../drivers/driver.js';
import { stateEvent } from '../drivers/kit/device-state-log.js';
import type { DriverReading } from './model/reading.js';

/**
 * `state` events for the drivers that do not send their own (their module has no
 * `emitsStateEvents`): serial line sensors, scanners and GPIO derive their state when asked
 * (a port that closed, lines that went stale), so the core asks every `everyMs` and reports each
 * change, in the same shape DeviceStateLog sends (drivers/kit/device-state-log.ts). A change
 * shorter than the period can be missed; health always has the current state.
 */
export interface StateWatchOptions {
  statuses(): Record<string, DeviceStatus & { type: string }>;
  /** True when the family reports its own transitions. */
  reportsItself(type: string): boolean;
  emit(device: string, readings: DriverReading[]): void;
  everyMs?: number;
  now?: () => number;
}

export const STATE_WATCH_MS = 1000;

export class StateWatch {
  private readonly seen = new Map<string, DeviceState>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: StateWatchOptions) {}

  start(): void {
    this.timer ??= setInterval(() => this.check(), this.opts.everyMs ?? STATE_WATCH_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One look at every device; exported for tests, run by the timer. */
  check(): void {
    const now = (this.opts.now ?? Date.now)();
    const statuses = this.opts.statuses();
    for (const id of this.seen.keys()) if (!(id in statuses)) this.seen.delete(id);
    for (const [id, s] of Object.entries(statuses)) {
      if (this.opts.reportsItself(s.type)) continue;
      const previous = this.seen.get(id) ?? 'starting';
      this.seen.set(id, s.state);
      // `starting` is no verdict yet and `stopped` the gateway's own doing: neither is reported.
      if (s.state === previous || s.state === 'starting' || s.state === 'stopped') continue;
      this.opts.emit(id, [stateEvent(previous, s.state, s.lastError, now)]);
    }
  }
}
