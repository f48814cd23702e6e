/**
 * Calls `tick` every `intervalMs` while running, never overlapping calls, so a simulated device
 * "talks" at a steady rate. `stop()` waits for the tick in flight. Tick errors (a writer racing
 * an unplug) are swallowed: the next tick tries again, like a device that keeps transmitting.
 */
export class EmitterLoop {
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> = Promise.resolve();
  private n = 0;

  constructor(
    private readonly tick: (n: number) => Promise<void>,
    private readonly intervalMs = 50,
  ) {}

  get running(): boolean {
    return this.timer !== null;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.inFlight = this.inFlight.then(() => this.tick(this.n++).catch(() => undefined));
    }, this.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.inFlight;
  }
}
