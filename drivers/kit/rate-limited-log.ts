import type { Logger } from 'pino';

/**
 * Logs a recurring problem at most once per interval per key, carrying how many were
 * suppressed meanwhile. A device spewing garbage at 115200 baud must not flood journald.
 */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 10_000,
  ) {}

  warn(key: string, obj: Record<string, unknown>, msg: string, now = Date.now()): void {
    const seen = this.last.get(key);
    if (seen && now - seen.at < this.intervalMs) {
      seen.suppressed++;
      return;
    }
    const suppressed = seen?.suppressed ?? 0;
    this.last.set(key, { at: now, suppressed: 0 });
    this.log.warn(suppressed > 0 ? { ...obj, suppressedSinceLast: suppressed } : obj, msg);
  }
}
