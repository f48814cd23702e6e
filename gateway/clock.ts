import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';

/**
 * Gateways without a real-time clock boot with a stale time until NTP catches up. Readings taken
 * before that are flagged (`clock: unsynced`) so central systems can treat their timestamps with
 * care, and a jump of the wall clock is logged and reported as a gateway event.
 *
 * "Synchronised" is read from systemd-timesyncd's flag file, which it creates once it has
 * synchronised (systemd ≥ 239). Machines with an RTC or another NTP daemon set
 * `clock.syncCheck: none` (always trusted) or point `syncedFile` at their own marker.
 */
export interface ClockOptions {
  /** `auto`: use timesyncd's flag when timesyncd runs here (its /run directory exists), else trust the clock. */
  syncCheck: 'auto' | 'timesyncd' | 'none';
  syncedFile: string;
  /** A wall-clock step larger than this, relative to the monotonic clock, is reported. */
  jumpThresholdMs: number;
  log: Logger;
}

export class ClockWatch {
  private synced: boolean;
  private lastWall = Date.now();
  private lastMono = performance.now();

  private readonly trust: boolean;

  constructor(private readonly opts: ClockOptions) {
    this.trust = opts.syncCheck === 'none' || (opts.syncCheck === 'auto' && !existsSync(dirname(opts.syncedFile)));
    if (this.trust && opts.syncCheck === 'auto') opts.log.info({ syncedFile: opts.syncedFile }, 'no timesyncd state found: trusting the system clock (set clock.syncCheck to change)');
    this.synced = this.check();
    if (!this.synced) opts.log.warn({ syncedFile: opts.syncedFile }, 'system clock not synchronised yet: readings are flagged clock=unsynced');
  }

  private check(): boolean {
    return this.trust || existsSync(this.opts.syncedFile);
  }

  /** Compare how far the wall clock moved with how far the monotonic clock did; returns a step beyond the threshold, else 0. */
  tick(): number {
    const wall = Date.now();
    const mono = performance.now();
    const delta = wall - this.lastWall - (mono - this.lastMono);
    this.lastWall = wall;
    this.lastMono = mono;
    if (!this.synced && this.check()) {
      this.synced = true;
      this.opts.log.info('system clock synchronised: readings are no longer flagged');
    }
    if (Math.abs(delta) <= this.opts.jumpThresholdMs) return 0;
    this.opts.log.warn({ deltaMs: Math.round(delta) }, 'system clock jumped');
    return Math.round(delta);
  }

  isSynced(): boolean {
    return this.synced;
  }
}
