import type { DeviceStatus, Driver, DriverContext, DriverFactory } from '../driver.js';
import { SerialLinePort } from '../transport/serial/line-port.js';
import { terminatorBytes } from '../transport/serial/terminator.js';
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
    this.port = new SerialLinePort({
      port: cfg.port,
      delimiter: terminatorBytes(cfg.terminator),
      maxLineBytes: cfg.maxCodeLength,
      log: ctx.log,
      onOverlong: (n) => {
        this.book.overlong(n, cfg.maxCodeLength);
        ctx.log.warn({ code: 'CODE_TOO_LONG', path: cfg.port.path }, this.book.lastProblem?.message ?? 'code too long');
      },
      onLine: (buf, ts) => {
        if (!this.running) return;
        const ev = this.book.record(pipeline(buf.toString(cfg.encoding), ts));
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
