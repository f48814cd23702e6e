import { realpath } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { DeviceError } from '../../driver.js';
import { retryDelayMs } from '../../kit/backoff.js';
import type { ReopenConfig } from './schema.js';

/** Where an open device delivers bytes and reports that it is gone. */
export interface DeviceSink {
  data(chunk: Buffer): void;
  /** The device stopped delivering (disconnect, read error, EOF). Called at most once per handle. */
  lost(err: unknown): void;
}

export interface DeviceHandle {
  close(): Promise<void>;
}

/** Opens the device at `path`; rejects with an error carrying a stable `code`. */
export type DeviceOpener = (path: string, sink: DeviceSink) => Promise<DeviceHandle>;

export interface HotplugCounters {
  opens: number;
  reopens: number;
  unplugs: number;
  errors: number;
}

export interface HotplugStreamOptions {
  /** The configured path (often a by-id symlink). Kept as given for every reopen. */
  path: string;
  opener: DeviceOpener;
  reopen: ReopenConfig;
  log: Logger;
  onData(chunk: Buffer): void;
  /** Open/closed transitions, for the driver's status. */
  onOpen?(): void;
  onClosed?(err: DeviceError): void;
  /** Turns an opener/loss error into a DeviceError; defaults to the error's own `code`. */
  describe?(err: unknown, phase: 'open' | 'loss'): DeviceError;
}

function defaultDescribe(err: unknown): DeviceError {
  const code = err && typeof err === 'object' && 'code' in err && typeof err.code === 'string' ? err.code : 'EUNKNOWN';
  return { code, message: err instanceof Error ? err.message : String(err), ts: Date.now() };
}

/**
 * A byte stream from a hot-pluggable device node (USB serial adapter, USB scanner). It keeps the
 * configured path, reopens it with backoff when it comes back, and notices an unplug even when
 * the kernel leaves the fd open: the path is re-resolved on a timer, and a vanished path or one
 * that now points at a different node counts as an unplug.
 */
export class HotplugStream {
  readonly counters: HotplugCounters = { opens: 0, reopens: 0, unplugs: 0, errors: 0 };
  lastError: DeviceError | null = null;
  /** The node the path resolved to when last opened (e.g. /dev/ttyUSB0), for status pages. */
  resolvedPath: string | null = null;

  private readonly opts: HotplugStreamOptions;
  private readonly describe: (err: unknown, phase: 'open' | 'loss') => DeviceError;
  private handle: DeviceHandle | null = null;
  /** Bumped on every open and close so late callbacks from an old handle are ignored. */
  private generation = 0;
  private stopped = true;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private watchTimer: NodeJS.Timeout | null = null;
  private opening: Promise<void> | null = null;
  private lastLoggedCode: string | null = null;

  constructor(opts: HotplugStreamOptions) {
    this.opts = opts;
    this.describe = opts.describe ?? defaultDescribe;
  }

  get isOpen(): boolean {
    return this.handle !== null;
  }

  /** Starts the open loop. Never throws: an absent device is retried and reported via onClosed. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt = 0;
    this.opening = this.tryOpen();
    this.watchTimer = setInterval(() => void this.checkPath(), this.opts.reopen.watchIntervalMs);
    this.watchTimer.unref();
  }

  /** Resolves once the first open attempt has finished (successfully or not). For tests and probe. */
  async settled(): Promise<void> {
    await this.opening;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.watchTimer) clearInterval(this.watchTimer);
    this.retryTimer = null;
    this.watchTimer = null;
    await this.opening;
    await this.closeHandle();
  }

  private async tryOpen(): Promise<void> {
    if (this.stopped || this.handle) return;
    const gen = ++this.generation;
    let lostEarly: { err: unknown } | null = null;
    try {
      const resolved = await realpath(this.opts.path).catch(() => this.opts.path);
      const handle = await this.opts.opener(this.opts.path, {
        data: (chunk) => {
          if (gen === this.generation) this.opts.onData(chunk);
        },
        lost: (err) => {
          if (gen !== this.generation) return;
          if (this.handle) void this.onLost(err);
          else lostEarly = { err };
        },
      });
      if (this.stopped || gen !== this.generation) {
        await handle.close().catch(() => undefined);
        return;
      }
      this.handle = handle;
      this.resolvedPath = resolved;
      if (this.counters.opens > 0) this.counters.reopens++;
      this.counters.opens++;
      this.attempt = 0;
      this.lastLoggedCode = null;
      this.opts.log.info({ path: this.opts.path, resolved, opens: this.counters.opens }, 'device opened');
      this.opts.onOpen?.();
      // The device can die between the open callback and here (a USB plug wiggling).
      const early = lostEarly as { err: unknown } | null;
      if (early) await this.onLost(early.err);
    } catch (err) {
      this.counters.errors++;
      const e = this.describe(err, 'open');
      this.lastError = e;
      // A missing device is retried forever; log the first failure of a kind loudly, repeats quietly.
      const level = this.lastLoggedCode === e.code ? 'debug' : 'warn';
      this.lastLoggedCode = e.code;
      this.opts.log[level]({ path: this.opts.path, code: e.code, attempt: this.attempt }, e.message);
      this.opts.onClosed?.(e);
      this.scheduleRetry();
    }
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retryTimer) return;
    const { initialDelayMs, maxDelayMs } = this.opts.reopen;
    const delay = retryDelayMs(this.attempt++, { startingDelay: initialDelayMs, maxDelay: maxDelayMs });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.opening = this.tryOpen();
    }, delay);
  }

  private async onLost(err: unknown): Promise<void> {
    if (!this.handle) return;
    const e = this.describe(err, 'loss');
    this.counters.unplugs++;
    // A pulled plug is expected in the field; anything else on an open device is also an error.
    if (!e.code.endsWith('_UNPLUGGED')) this.counters.errors++;
    this.lastError = e;
    this.lastLoggedCode = e.code;
    this.opts.log.warn({ path: this.opts.path, code: e.code }, e.message);
    await this.closeHandle();
    this.opts.onClosed?.(e);
    this.scheduleRetry();
  }

  private async closeHandle(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    this.generation++;
    if (handle) await handle.close().catch((err: unknown) => this.opts.log.debug({ err }, 'close after loss failed'));
  }

  private async checkPath(): Promise<void> {
    if (this.stopped || !this.handle) return;
    let now: string | null;
    try {
      now = await realpath(this.opts.path);
    } catch {
      now = null;
    }
    if (this.stopped || !this.handle) return;
    if (now === null || (this.resolvedPath !== null && now !== this.resolvedPath)) {
      const why = now === null ? 'path vanished' : `path now points at ${now}`;
      const err = Object.assign(new Error(`${this.opts.path}: ${why}`), { code: 'ENODEV', disconnected: true });
      await this.onLost(err);
    }
  }
}
