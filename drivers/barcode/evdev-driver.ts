import type { DeviceError, DeviceStatus, Driver, DriverContext, DriverFactory } from '../driver.js';
import { HotplugStream } from '../transport/serial/hotplug-stream.js';
import { errnoOf } from './evdev/errors.js';
import { evdevFileOpener } from './evdev/file-opener.js';
import { grabHelperOpener } from './evdev/grab-helper.js';
import { InputEventReader, recordSize, resolveLayout } from './evdev/input-event.js';
import { KeyDecoder } from './evdev/key-decoder.js';
import { compileScanPipeline } from './scan-event.js';
import { ScanBook } from './scan-counters.js';
import type { BarcodeEvdevDeviceConfig } from './schema.js';
import { StreamLifecycle } from '../kit/stream-lifecycle.js';

/** A USB keyboard-wedge scanner read as a Linux input device. */
class BarcodeEvdevDriver implements Driver {
  private readonly book = new ScanBook();
  private readonly stream: HotplugStream;
  private readonly pipeline: ReturnType<typeof compileScanPipeline>;
  private readonly lifecycle: StreamLifecycle;

  constructor(
    private readonly cfg: BarcodeEvdevDeviceConfig,
    private readonly ctx: DriverContext,
  ) {
    const layout = resolveLayout(cfg.eventLayout);
    const reader = new InputEventReader(layout);
    const keys = new KeyDecoder({ maxCodeLength: cfg.maxCodeLength, autorepeat: cfg.autorepeat });
    this.pipeline = compileScanPipeline(cfg);
    const opener = cfg.grab ? grabHelperOpener({ python: cfg.pythonPath, grab: true }) : evdevFileOpener(recordSize(layout));
    this.stream = new HotplugStream({
      path: cfg.path,
      opener,
      reopen: cfg.reopen,
      log: ctx.log,
      describe: (err): DeviceError => ({
        code: errnoOf(err) ?? 'EVDEV_IO_ERROR',
        message: err instanceof Error ? err.message : String(err),
        ts: Date.now(),
      }),
      onOpen: () => {
        // Half a record or half a code from before an unplug belongs to nobody.
        reader.reset();
        keys.reset();
      },
      onData: (chunk) => {
        if (!this.running) return;
        for (const ev of reader.push(chunk)) {
          const r = keys.feed(ev);
          if (!r) continue;
          if (r.kind === 'overlong') {
            this.book.overlong(1, cfg.maxCodeLength);
            ctx.log.warn({ code: 'CODE_TOO_LONG', path: cfg.path }, this.book.lastProblem?.message ?? 'code too long');
            continue;
          }
          this.onCode(r.text, Date.now());
        }
      },
    });
    this.lifecycle = new StreamLifecycle(this.stream);
  }

  private onCode(text: string, ts: number): void {
    const ev = this.book.record(this.pipeline(text, ts), Buffer.byteLength(text));
    if (!ev) return;
    this.ctx.log.debug({ length: text.length, valid: ev.reading.attrs?.valid }, 'scan');
    this.ctx.emit([ev.reading]);
  }

  readonly start = (): Promise<void> => this.lifecycle.start();
  readonly stop = (): Promise<void> => this.lifecycle.stop();
  private get running(): boolean {
    return this.lifecycle.running;
  }

  status(): DeviceStatus {
    return this.book.status(this.running, this.stream.isOpen, this.stream, {
      path: this.cfg.path,
      resolvedPath: this.stream.resolvedPath,
      grab: this.cfg.grab,
      layout: resolveLayout(this.cfg.eventLayout),
    });
  }
}

export const createBarcodeEvdevDriver: DriverFactory<BarcodeEvdevDeviceConfig> = (cfg, ctx) => new BarcodeEvdevDriver(cfg, ctx);
