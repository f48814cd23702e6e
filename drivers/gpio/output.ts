import type { Logger } from 'pino';
import type { WriteRequest, WriteResult } from '../writable-point.js';
import { GpioError, gpioErrorFromErrno } from './errors.js';
import type { Level, OutputHandle, PinSource } from './pin-source.js';
import type { GpioOutputConfig } from './schema.js';

/**
 * One output line. Driven to `initial` when claimed and to `atShutdown` when released, so a
 * restart, a reload or a stop leaves the relay where the device file says. A pulse that is cut
 * short by a stop still ends at the shutdown level (inactive by default): a barrier relay is
 * never left energised by the gateway going away.
 */
export class GpioOutput {
  private handle: OutputHandle | null = null;
  private pulseEnd: { timer: NodeJS.Timeout; done: () => void } | null = null;
  error: GpioError | null = null;
  writes = 0;

  constructor(
    readonly cfg: GpioOutputConfig,
    private readonly log: Logger,
  ) {}

  get state(): 'closed' | 'ok' | 'error' {
    return this.handle ? 'ok' : this.error ? 'error' : 'closed';
  }

  /** Logical level now (after activeLow), or null when the line is not open. */
  get active(): boolean | null {
    if (!this.handle) return null;
    try {
      return this.logical(this.handle.read());
    } catch {
      return null;
    }
  }

  async open(source: PinSource): Promise<void> {
    try {
      this.handle = await source.openOutput(this.cfg.pin, this.cfg.name, this.physical(this.cfg.initial === 'active'));
      this.error = null;
    } catch (err) {
      this.error = gpioErrorFromErrno(err, `output "${this.cfg.name}" (BCM ${this.cfg.pin})`, 'claiming the line');
    }
  }

  async write(req: WriteRequest): Promise<WriteResult> {
    const h = this.handle;
    if (!h) throw this.error ?? new GpioError('GPIO_UNAVAILABLE', `output "${this.cfg.name}" (BCM ${this.cfg.pin}) is not open`);
    if (req.action === 'write') {
      const want = req.value === true;
      this.drive(h, want);
      return this.cfg.readBack ? { readBack: this.logical(h.read()), expected: want } : {};
    }
    this.drive(h, true);
    const started = Date.now();
    await new Promise<void>((resolve) => {
      this.pulseEnd = { timer: setTimeout(resolve, req.durationMs), done: resolve };
    });
    this.pulseEnd = null;
    if (this.handle !== h) {
      // Closed by a stop mid-pulse: close() already drove the shutdown level.
      throw Object.assign(new Error(`pulse of output "${this.cfg.name}" cut short after ${Date.now() - started} of ${req.durationMs} ms: the device was stopped (line set to its shutdown level)`), { code: 'PULSE_CUT_SHORT' });
    }
    this.drive(h, false);
    return {};
  }

  /** Release the line at its shutdown level. */
  close(): void {
    const h = this.handle;
    if (!h) return;
    this.handle = null;
    if (this.pulseEnd) {
      clearTimeout(this.pulseEnd.timer);
      this.pulseEnd.done();
    }
    const at = this.cfg.atShutdown;
    try {
      if (at !== 'keep') h.write(this.physical(at === 'active'));
    } catch (err) {
      this.log.error({ err, output: this.cfg.name, pin: this.cfg.pin }, 'could not set the output to its shutdown level');
    }
    h.close();
  }

  private drive(h: OutputHandle, active: boolean): void {
    try {
      h.write(this.physical(active));
      this.writes++;
    } catch (err) {
      throw gpioErrorFromErrno(err, `output "${this.cfg.name}" (BCM ${this.cfg.pin})`, 'writing the line');
    }
  }

  private physical(active: boolean): Level {
    return (active !== this.cfg.activeLow ? 1 : 0) as Level;
  }

  private logical(level: Level): boolean {
    return (level === 1) !== this.cfg.activeLow;
  }
}
