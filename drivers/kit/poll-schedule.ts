/**
 * Fixed-rate polling: ticks every `intervalMs` from a start time, polls never overlap, and a poll
 * that runs past the next tick skips the missed ticks (reported as `skipped`, the drivers'
 * `overruns` counter) instead of queueing them — a backlog of polls would only read stale
 * values faster and starve the other units on a shared bus.
 */
export class PollSchedule {
  private nextTick: number;

  constructor(
    private readonly intervalMs: number,
    now = Date.now(),
  ) {
    this.nextTick = now;
  }

  /** Start counting ticks afresh, e.g. after a reconnect. */
  restart(now = Date.now()): void {
    this.nextTick = now;
  }

  /** Call after each poll: how long to sleep until the next tick, and how many ticks were missed. */
  afterPoll(now = Date.now()): { waitMs: number; skipped: number } {
    this.nextTick += this.intervalMs;
    let skipped = 0;
    if (now > this.nextTick) {
      skipped = Math.floor((now - this.nextTick) / this.intervalMs) + 1;
      this.nextTick += skipped * this.intervalMs;
    }
    return { waitMs: this.nextTick - now, skipped };
  }
}
