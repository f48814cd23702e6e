import { GpioError, type GpioErrorCode } from '../../drivers/gpio/errors.js';
import type { Level, OutputHandle, PinHandle, PinSource } from '../../drivers/gpio/pin-source.js';

/**
 * Stands in for the Pi's GPIO lines: a test sets PHYSICAL levels (with timing, via timers, so
 * vi.useFakeTimers() drives it deterministically) and the driver's real logic sees them the way
 * onoff would deliver them: a raw level per interrupt, no debouncing, no inversion.
 */
interface Line {
  level: Level;
  watchers: Array<{ onLevel: (l: Level) => void; onError: (e: Error) => void }>;
  claimed: boolean;
  /** Every level an output was driven to, with the time, for tests of pulses and shutdown. */
  driven: Array<{ level: Level; ms: number }>;
}

export class FakeGpio implements PinSource {
  private readonly lines = new Map<number, Line>();
  private outage: { code: GpioErrorCode | 'EIO'; message: string } | null = null;
  private readonly busy = new Set<number>();
  private readonly stuck = new Map<number, Level | null>();
  opens = 0;

  private line(bcm: number): Line {
    let l = this.lines.get(bcm);
    if (!l) {
      l = { level: 0, watchers: [], claimed: false, driven: [] };
      this.lines.set(bcm, l);
    }
    return l;
  }

  /** Drive a line to `level` now; watchers hear it only if it changed (as with a real edge). */
  set(bcm: number, level: Level): void {
    const l = this.line(bcm);
    if (l.level === level) return;
    l.level = level;
    if (this.outage) return;
    for (const w of [...l.watchers]) w.onLevel(level);
  }

  level(bcm: number): Level {
    return this.line(bcm).level;
  }

  /** Schedule a sequence of [level, holdMs] steps, e.g. a contact bounce; resolves at the end. */
  drive(bcm: number, steps: Array<[Level, number]>): Promise<void> {
    return new Promise((resolve) => {
      const next = (i: number) => {
        if (i >= steps.length) return resolve();
        const [level, holdMs] = steps[i]!;
        this.set(bcm, level);
        setTimeout(() => next(i + 1), holdMs);
      };
      next(0);
    });
  }

  /** A bounce burst: `bounces` alternations `gapMs` apart, ending on `final`. */
  bounce(bcm: number, final: Level, bounces = 4, gapMs = 1): Promise<void> {
    const steps: Array<[Level, number]> = [];
    for (let i = 0; i < bounces; i++) steps.push([(i % 2 === 0 ? final : 1 - final) as Level, gapMs]);
    steps.push([final, 0]);
    return this.drive(bcm, steps);
  }

  /** The pin is held by someone else: opens fail with GPIO_BUSY. */
  setBusy(bcm: number, busy: boolean): void {
    if (busy) this.busy.add(bcm);
    else this.busy.delete(bcm);
  }

  /**
   * The GPIO block goes away (sysfs gone, line unreadable): opens fail, reads throw, watchers get
   * an error. `code` EIO is what a read of a vanished value file gives.
   */
  breakAll(code: GpioErrorCode | 'EIO' = 'EIO'): void {
    this.outage = { code, message: code === 'EIO' ? 'EIO: i/o error, read' : `simulated ${code}` };
    for (const l of this.lines.values()) {
      for (const w of [...l.watchers]) w.onError(this.outageError());
    }
  }

  heal(): void {
    this.outage = null;
  }

  claimed(bcm: number): boolean {
    return this.line(bcm).claimed;
  }

  private outageError(): Error {
    const o = this.outage!;
    if (o.code === 'EIO') return Object.assign(new Error(o.message), { code: 'EIO' });
    return new GpioError(o.code, o.message);
  }

  /** The levels an output line was driven to, oldest first. */
  driven(bcm: number): Array<{ level: Level; ms: number }> {
    return this.line(bcm).driven;
  }

  /** Make reads of an output return `level` whatever was written (a relay welded shut). */
  stuckAt(bcm: number, level: Level | null): void {
    this.stuck.set(bcm, level);
  }

  async openOutput(bcm: number, label: string, initial: Level): Promise<OutputHandle> {
    const l = this.claim(bcm, label);
    const drive = (level: Level) => {
      if (this.outage) throw this.outageError();
      l.driven.push({ level, ms: Date.now() });
      this.set(bcm, level);
    };
    drive(initial);
    return {
      sysfs: null,
      write: drive,
      read: () => {
        if (this.outage) throw this.outageError();
        return this.stuck.get(bcm) ?? l.level;
      },
      close: () => {
        l.claimed = false;
      },
    };
  }

  private claim(bcm: number, label: string): Line {
    this.opens += 1;
    if (this.outage) throw this.outageError();
    if (this.busy.has(bcm)) throw Object.assign(new Error(`EBUSY: resource busy or locked, write (${label})`), { code: 'EBUSY' });
    const l = this.line(bcm);
    if (l.claimed) throw Object.assign(new Error('EBUSY: already exported'), { code: 'EBUSY' });
    l.claimed = true;
    return l;
  }

  async open(bcm: number, label: string): Promise<PinHandle> {
    const l = this.claim(bcm, label);
    let watcher: Line['watchers'][number] | null = null;
    return {
      sysfs: null,
      read: () => {
        if (this.outage) throw this.outageError();
        return l.level;
      },
      watch: (onLevel, onError) => {
        watcher = { onLevel, onError };
        l.watchers.push(watcher);
      },
      close: () => {
        l.watchers = l.watchers.filter((w) => w !== watcher);
        l.claimed = false;
      },
    };
  }
}
