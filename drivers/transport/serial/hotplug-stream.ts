import { existsSync, watch, type FSWatcher } from 'node:fs';
import { access, realpath } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
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
  /** Distinct failures: a run of identical failed retries counts once, a device still missing after an unplug not at all. */
  errors: number;
  /** Open attempts after the first one failed or the device was lost. */
  openRetries: number;
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
 * configured path, reopens it when it comes back, and notices an unplug even when the kernel
 * leaves the fd open: the path is re-resolved on a timer, and a vanished path or one that now
 * points at a different node counts as an unplug.
 *
 * While the device is away, the directory of the path (udev's /dev/serial/by-id, or the nearest
 * existing parent: by-id itself vanishes with the last adapter) is watched with inotify, so a
 * replug reopens at once rather than after a backoff that has grown to maxDelayMs. The backoff
 * stays as the fallback for what inotify cannot see (a node that exists but fails to open, a
 * filesystem without inotify).
 */
export class HotplugStream {
  readonly counters: HotplugCounters = { opens: 0, reopens: 0, unplugs: 0, errors: 0, openRetries: 0 };
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
  private openInFlight = false;
  private lastLoggedCode: string | null = null;
  /** The device went away as an unplug: failing to find it afterwards is the same event, not a new error. */
  private awayByUnplug = false;
  private dirWatcher: FSWatcher | null = null;
  private watchedDir: string | null = null;

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
    this.unwatchDirectory();
    await this.opening;
    await this.closeHandle();
  }

  private async tryOpen(): Promise<void> {
    if (this.stopped || this.handle || this.openInFlight) return;
    this.openInFlight = true;
    try {
      await this.openOnce();
    } finally {
      this.openInFlight = false;
    }
  }

  private async openOnce(): Promise<void> {
    const gen = ++this.generation;
    let lostEarly: { err: unknown } | null = null;
    try {
      // Resolved before the open so a link that moves meanwhile is noticed as a change. A link that
      // only appears during the open (a replug racing the retry) is resolved after it: taking the
      // link's own path instead would look like "now points elsewhere" at the next check.
      const before = await realpath(this.opts.path).catch(() => null);
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
      const resolved = before ?? (await realpath(this.opts.path).catch(() => null));
      this.handle = handle;
      this.resolvedPath = resolved;
      if (this.counters.opens > 0) this.counters.reopens++;
      this.counters.opens++;
      this.attempt = 0;
      this.lastLoggedCode = null;
      this.awayByUnplug = false;
      this.unwatchDirectory();
      this.opts.log.info({ path: this.opts.path, resolved, opens: this.counters.opens }, 'device opened');
      this.opts.onOpen?.();
      // The device can die between the open callback and here (a USB plug wiggling).
      const early = lostEarly as { err: unknown } | null;
      if (early) await this.onLost(early.err);
    } catch (err) {
      const e = this.describe(err, 'open');
      const stillUnplugged = this.awayByUnplug && (e.code.endsWith('_NOT_FOUND') || e.code === 'ENOENT');
      if (!stillUnplugged && e.code !== this.lastLoggedCode) this.counters.errors++;
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
    this.watchDirectory();
    const { initialDelayMs, maxDelayMs } = this.opts.reopen;
    const delay = retryDelayMs(this.attempt++, { startingDelay: initialDelayMs, maxDelay: maxDelayMs });
    this.retryTimer = setTimeout(() => this.retryNow(), delay);
  }

  private retryNow(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.stopped || this.handle || this.openInFlight) return;
    this.counters.openRetries++;
    this.opening = this.tryOpen();
  }

  /**
   * Watches the nearest existing directory on the way to the path; any change there may be our
   * device. Moves closer as directories appear, and then looks once right after arming: what
   * changed between finding the new directory and watching it is never reported. Not on the
   * first arm after a loss: the dying node may still be there, and opening it can block (a FIFO).
   */
  private watchDirectory(lookNow = false): void {
    if (this.stopped || this.handle) return;
    let dir = dirname(this.opts.path);
    while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
    if (this.dirWatcher && this.watchedDir === dir) return;
    this.unwatchDirectory();
    try {
      const w = watch(dir, { persistent: false }, () => void this.onDirectoryChange());
      // The watched directory itself can go (by-id with the last adapter): watch from higher up.
      w.on('error', () => {
        this.unwatchDirectory();
        this.watchDirectory(true);
      });
      this.dirWatcher = w;
      this.watchedDir = dir;
    } catch {
      return; // nothing watchable: the backoff alone has to do
    }
    if (lookNow) void this.onDirectoryChange();
  }

  private unwatchDirectory(): void {
    this.dirWatcher?.close();
    this.dirWatcher = null;
    this.watchedDir = null;
  }

  private async onDirectoryChange(): Promise<void> {
    if (this.stopped || this.handle || this.openInFlight) return;
    const present = await access(this.opts.path).then(
      () => true,
      () => false,
    );
    if (this.stopped || this.handle) return;
    if (!present) {
      // A parent may have appeared (by-id recreated) or gone: move the watch accordingly.
      this.watchDirectory(true);
      return;
    }
    this.opts.log.debug({ path: this.opts.path, name: basename(this.opts.path) }, 'device path reappeared, reopening now');
    // Back to quick retries: a fresh node can need a moment (udev sets its permissions).
    this.attempt = 0;
    this.retryNow();
  }

  private async onLost(err: unknown): Promise<void> {
    if (!this.handle) return;
    const e = this.describe(err, 'loss');
    this.counters.unplugs++;
    // A pulled plug is expected in the field; anything else on an open device is also an error.
    this.awayByUnplug = e.code.endsWith('_UNPLUGGED');
    if (!this.awayByUnplug) this.counters.errors++;
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
