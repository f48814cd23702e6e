import type { Level } from './pin-source.js';

export interface Clock {
  /** Epoch ms, for reading timestamps. */
  wall(): number;
  /** Monotonic ms, for durations (immune to NTP steps). */
  mono(): number;
}

export const systemClock: Clock = { wall: () => Date.now(), mono: () => performance.now() };

export interface Instant {
  wall: number;
  mono: number;
}

/**
 * Trailing-edge debounce: a change counts once the line has been quiet for `ms`, and is dated
 * at the FIRST raw edge of its burst (when the contact actually moved). A burst that ends on
 * the level it started from is a glitch: counted, not reported.
 */
export class Debouncer {
  private stable: Level;
  private lastRaw: Level;
  private burstStart: Instant | null = null;
  private timer: NodeJS.Timeout | null = null;
  rawEdges = 0;
  glitches = 0;

  constructor(
    initial: Level,
    private readonly ms: number,
    private readonly clock: Clock,
    private readonly onChange: (level: Level, at: Instant) => void,
  ) {
    this.stable = initial;
    this.lastRaw = initial;
  }

  get level(): Level {
    return this.stable;
  }

  feed(level: Level): void {
    // Repeated reads of one level (epoll can wake twice, reconcile reads) are not edges.
    if (level === this.lastRaw) return;
    this.lastRaw = level;
    this.rawEdges += 1;
    const now = { wall: this.clock.wall(), mono: this.clock.mono() };
    if (this.ms === 0) {
      this.stable = level;
      this.onChange(level, now);
      return;
    }
    this.burstStart ??= now;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.settle(), this.ms);
  }

  private settle(): void {
    this.timer = null;
    const start = this.burstStart!;
    this.burstStart = null;
    if (this.lastRaw === this.stable) {
      this.glitches += 1;
      return;
    }
    this.stable = this.lastRaw;
    this.onChange(this.stable, start);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
