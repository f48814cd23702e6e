/**
 * node-opcua repairs a broken connection on its own, but a repair can leave a subscription that
 * never publishes again. A live subscription hears from the server at least every publishing
 * interval x keep-alive count; three of those without a notification or keep-alive means it is
 * dead, and the watchdog calls `onStall` so the session is built afresh.
 */
export function stallAfterMs(publishingIntervalMs: number, keepAliveCount: number): number {
  return Math.max(15_000, 3 * publishingIntervalMs * keepAliveCount);
}

export class StallWatchdog {
  private lastActivity = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly stallAfterMs: number,
    /** Only a connected session can stall; while connecting or repairing, silence is expected. */
    private readonly watching: () => boolean,
    private readonly onStall: (quietMs: number) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.check(), Math.min(5000, this.stallAfterMs / 2));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The server was heard from (a notification, a keep-alive, a fresh or restored session). */
  touch(): void {
    this.lastActivity = Date.now();
  }

  private check(): void {
    if (!this.watching()) return;
    const quiet = Date.now() - this.lastActivity;
    if (quiet > this.stallAfterMs) this.onStall(quiet);
  }
}
