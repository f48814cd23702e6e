import type { DeviceStatus, Driver, DriverContext, DriverFactory } from '../driver.js';
import { SerialLinePort } from '../transport/serial/line-port.js';
import { lineEnding } from '../transport/serial/terminator.js';
import { RateLimitedLog } from '../kit/rate-limited-log.js';
import { compileScanPipeline } from './scan-event.js';
import { ScanBook } from './scan-counters.js';
import type { BarcodeSerialDeviceConfig } from './schema.js';
import { StreamLifecycle } from '../kit/stream-lifecycle.js';

/** A scanner on a serial line (RS-232 or USB-CDC): one code per terminator. */
class BarcodeSerialDriver implements Driver {
  private readonly book = new ScanBook();
  private readonly port: SerialLinePort;
  private readonly lifecycle: StreamLifecycle;

  constructor(
    private readonly cfg: BarcodeSerialDeviceConfig,
    ctx: DriverContext,
  ) {
    const pipeline = compileScanPipeline(cfg);
    const throttle = new RateLimitedLog(ctx.log);
    const terminator = typeof cfg.terminator === 'string' ? cfg.terminator : JSON.stringify(cfg.terminator);
    this.port = new SerialLinePort({
      port: cfg.port,
      ending: lineEnding(cfg.terminator),
      maxLineBytes: cfg.maxCodeLength,
      interCharTimeoutMs: cfg.interCharTimeoutMs,
      log: ctx.log,
      onDiscarded: (fragments, bytes) => {
        this.book.discarded(fragments, bytes);
        if (fragments > 0) throttle.warn('FRAGMENT', { code: 'SCAN_FRAGMENT', path: cfg.port.path, fragments, bytes }, 'partial code without a terminator dropped after a pause');
      },
      onMixedEndings: (n) => {
        this.book.mixedEndings(n, terminator);
        throttle.warn('MIXED_LINE_ENDINGS', { code: 'MIXED_LINE_ENDINGS', path: cfg.port.path, terminator }, this.book.lastProblem?.message ?? 'mixed line endings');
      },
      onOverlong: (n) => {
        this.book.overlong(n, cfg.maxCodeLength);
        ctx.log.warn({ code: 'CODE_TOO_LONG', path: cfg.port.path }, this.book.lastProblem?.message ?? 'code too long');
      },
      onLine: (buf, ts) => {
        if (!this.running) return;
        const outcome = pipeline(buf.toString(cfg.encoding), ts);
        const ev = this.book.record(outcome, buf.length);
        if (outcome.kind === 'noise') throttle.warn('SCAN_NOISE', { code: 'SCAN_NOISE', path: cfg.port.path, bytes: buf.length }, this.book.lastProblem?.message ?? 'noise');
        if (!ev) return;
        const attrs = ev.reading.attrs;
        // A ticket or pass code can be a bearer credential at an exit barrier: log its shape only.
        ctx.log.debug({ length: String(ev.reading.value).length, valid: attrs?.valid, symbology: attrs?.symbology }, 'scan');
        ctx.emit([ev.reading]);
      },
    });
    this.lifecycle = new StreamLifecycle(this.port);
  }

  readonly start = (): Promise<void> => this.lifecycle.start();
  readonly stop = (): Promise<void> => this.lifecycle.stop();
  private get running(): boolean {
    return this.lifecycle.running;
  }

  status(): DeviceStatus {
    return this.book.status(this.running, this.port.isOpen, this.port, {
      path: this.cfg.port.path,
      resolvedPath: this.port.resolvedPath,
    });
  }
}

export const createBarcodeSerialDriver: DriverFactory<BarcodeSerialDeviceConfig> = (cfg, ctx) => new BarcodeSerialDriver(cfg, ctx);
