import type { Logger } from 'pino';
import type { DriverReading, Quality } from '../../gateway/model/reading.js';
import { Debouncer, type Clock, type Instant } from './debounce.js';
import { GpioError, gpioErrorFromErrno } from './errors.js';
import type { DeclaredPoint } from '../kit/point-set.js';
import type { Level, PinHandle, PinSource } from './pin-source.js';
import { DEFAULT_INTERVAL_MS, effectiveEdge, inputPoints, type Edge, type GpioInputConfig } from './schema.js';

export interface InputHooks {
  emit(readings: DriverReading[]): void;
  /** A successful read or accepted change: the line is alive. */
  alive(ts: number): void;
  faulted(err: GpioError): void;
  log: Logger;
}

/**
 * One configured input: owns its line, debouncer and the accounting of its mode.
 * - state:    every accepted change (matching `edge`) is an event; the level at open is one too.
 * - counter:  accepted edges per interval (`.count`) and since start (`.total`).
 * - duration: time active per interval (`.activeMs`) and as a share of it (`.occupancy`, %).
 * Interval values are `bad` (null) if the line is faulted at report time and `uncertain` if it
 * was faulted during the interval, so a gap never reads as "no vehicles".
 */
export class GpioInput {
  readonly edge: Edge;
  readonly intervalMs: number;
  /** The two points of an interval report (schema.ts says which). */
  private readonly intervalPoints: DeclaredPoint[];
  private handle: PinHandle | null = null;
  private debouncer: Debouncer | null = null;
  private intervalTimer: NodeJS.Timeout | null = null;
  private intervalStart: Instant | null = null;
  private firstInterval = true;
  private faultedThisInterval = false;
  private count = 0;
  private total = 0;
  private activeMs = 0;
  private activeSince: number | null = null;
  private rawEdgesBefore = 0;
  private glitchesBefore = 0;
  state: 'closed' | 'ok' | 'error' = 'closed';
  error: GpioError | null = null;
  changes = 0;
  faults = 0;
  lastChangeTs: number | null = null;

  constructor(
    readonly cfg: GpioInputConfig,
    private readonly clock: Clock,
    private readonly hooks: InputHooks,
  ) {
    this.edge = effectiveEdge(cfg);
    this.intervalMs = cfg.intervalMs ?? DEFAULT_INTERVAL_MS;
    this.intervalPoints = inputPoints(cfg);
  }

  get rawEdges(): number {
    return this.rawEdgesBefore + (this.debouncer?.rawEdges ?? 0);
  }

  get glitches(): number {
    return this.glitchesBefore + (this.debouncer?.glitches ?? 0);
  }

  get sysfs(): number | null {
    return this.handle?.sysfs ?? null;
  }

  /** Logical level (after activeLow), or null when the line is not open. */
  get active(): boolean | null {
    return this.debouncer && this.state === 'ok' ? this.isActive(this.debouncer.level) : null;
  }

  get counts(): { count: number; total: number } {
    return { count: this.count, total: this.total };
  }

  /** Start interval reporting; independent of whether the line opens, so faults show as gaps. */
  beginIntervals(): void {
    if (this.cfg.mode === 'state' || this.intervalTimer) return;
    this.intervalStart = this.now();
    this.scheduleInterval();
  }

  async open(source: PinSource): Promise<void> {
    if (this.state === 'ok') return;
    let handle: PinHandle;
    try {
      handle = await source.open(this.cfg.pin, this.cfg.name);
    } catch (err) {
      this.fault(err, 'opening the line');
      return;
    }
    let level: Level;
    try {
      level = handle.read();
    } catch (err) {
      handle.close();
      this.fault(err, 'reading the line');
      return;
    }
    this.handle = handle;
    this.retireDebouncer();
    this.debouncer = new Debouncer(level, this.cfg.debounceMs, this.clock, (l, at) => this.onChange(l, at));
    const debouncer = this.debouncer;
    handle.watch(
      (l) => {
        if (this.debouncer === debouncer) debouncer.feed(l);
      },
      (err) => {
        if (this.handle === handle) this.fault(err, 'watching the line');
      },
    );
    this.state = 'ok';
    this.error = null;
    const at = this.now();
    this.hooks.alive(at.wall);
    if (this.isActive(level) && this.cfg.mode === 'duration') this.activeSince = at.mono;
    if (this.cfg.mode === 'state') {
      // The level at open (and after a fault) is news too: a door may have opened meanwhile.
      this.hooks.emit([this.stateEvent(this.isActive(level), at.wall, { initial: true })]);
    }
  }

  /** Re-read the line to catch an edge the interrupt path missed, and to notice a dead line. */
  reconcile(): void {
    if (this.state !== 'ok' || !this.handle || !this.debouncer) return;
    try {
      const level = this.handle.read();
      this.hooks.alive(this.clock.wall());
      this.debouncer.feed(level);
    } catch (err) {
      this.fault(err, 'reading the line');
    }
  }

  /** Stop everything; counter/duration inputs first report the partial interval so no count is lost. */
  close(flush: boolean): void {
    if (this.intervalTimer) clearTimeout(this.intervalTimer);
    this.intervalTimer = null;
    if (flush && this.cfg.mode !== 'state' && this.intervalStart) this.reportInterval(true);
    this.releaseLine();
    this.state = 'closed';
  }

  private onChange(level: Level, at: Instant): void {
    const active = this.isActive(level);
    this.changes += 1;
    this.lastChangeTs = at.wall;
    this.hooks.alive(at.wall);
    const direction: 'rising' | 'falling' = active ? 'rising' : 'falling';
    const wanted = this.edge === 'both' || this.edge === direction;
    switch (this.cfg.mode) {
      case 'state':
        if (wanted) this.hooks.emit([this.stateEvent(active, at.wall, { edge: direction })]);
        break;
      case 'counter':
        if (wanted) {
          this.count += 1;
          this.total += 1;
        }
        break;
      case 'duration':
        if (active) {
          this.activeSince ??= at.mono;
        } else if (this.activeSince !== null) {
          // A release dated before the last interval boundary (debounce delay) adds nothing here;
          // the previous interval already counted up to its end.
          this.activeMs += Math.max(0, at.mono - this.activeSince);
          this.activeSince = null;
        }
        break;
    }
  }

  private stateEvent(active: boolean, ts: number, attrs: Record<string, string | boolean>): DriverReading {
    return { point: this.cfg.name, value: active, quality: 'good', ts, kind: 'event', attrs };
  }

  private scheduleInterval(): void {
    // Aligned to wall-clock multiples (a 15-minute count ends at :00, :15 ...), as traffic data is binned.
    const now = this.clock.wall();
    const next = (Math.floor(now / this.intervalMs) + 1) * this.intervalMs;
    this.intervalTimer = setTimeout(() => {
      this.reportInterval(false);
      this.scheduleInterval();
    }, next - now);
  }

  private reportInterval(flush: boolean): void {
    const end = this.now();
    const start = this.intervalStart ?? end;
    const lengthMs = Math.max(0, end.mono - start.mono);
    const quality: Quality = this.state === 'error' ? 'bad' : this.faultedThisInterval ? 'uncertain' : 'good';
    const partial = flush || this.firstInterval;
    const attrs = partial ? { attrs: { intervalMs: Math.round(lengthMs) } } : {};
    const value = (v: number) => (quality === 'bad' ? null : v);
    const base = { quality, ts: end.wall, kind: 'telemetry' as const, ...attrs };
    const [first, second] = this.intervalPoints;
    const reading = (p: DeclaredPoint, v: number): DriverReading => ({ point: p.name, value: value(v), ...(p.unit !== undefined ? { unit: p.unit } : {}), ...base });
    if (this.cfg.mode === 'counter') {
      this.hooks.emit([reading(first!, this.count), reading(second!, this.total)]);
    } else {
      if (this.activeSince !== null) {
        this.activeMs += Math.max(0, end.mono - this.activeSince);
        this.activeSince = end.mono;
      }
      const activeMs = Math.min(Math.round(this.activeMs), Math.round(lengthMs));
      const occupancy = lengthMs > 0 ? Math.round((activeMs / lengthMs) * 1000) / 10 : 0;
      this.hooks.emit([reading(first!, activeMs), reading(second!, occupancy)]);
    }
    this.count = 0;
    this.activeMs = 0;
    this.firstInterval = false;
    this.faultedThisInterval = this.state === 'error';
    this.intervalStart = end;
  }

  private fault(err: unknown, action: string): void {
    const e = gpioErrorFromErrno(err, `input "${this.cfg.name}" (BCM ${this.cfg.pin})`, action);
    // Retries of a lasting fault (no GPIO on this box) would otherwise log every retry period.
    const repeat = this.state === 'error' && this.error?.code === e.code;
    this.faults += 1;
    this.state = 'error';
    this.error = e;
    this.faultedThisInterval = true;
    if (this.activeSince !== null) {
      // Time active is unknown from here on; keep what was measured.
      this.activeMs += Math.max(0, this.clock.mono() - this.activeSince);
      this.activeSince = null;
    }
    this.releaseLine();
    this.hooks.log[repeat ? 'debug' : 'warn']({ code: e.code, input: this.cfg.name, pin: this.cfg.pin, err: e.message }, 'gpio input fault');
    this.hooks.faulted(e);
  }

  private releaseLine(): void {
    this.retireDebouncer();
    const handle = this.handle;
    this.handle = null;
    handle?.close();
  }

  private retireDebouncer(): void {
    if (!this.debouncer) return;
    this.debouncer.dispose();
    this.rawEdgesBefore += this.debouncer.rawEdges;
    this.glitchesBefore += this.debouncer.glitches;
    this.debouncer = null;
  }

  private isActive(level: Level): boolean {
    return (level === 1) !== this.cfg.activeLow;
  }

  private now(): Instant {
    return { wall: this.clock.wall(), mono: this.clock.mono() };
  }
}
