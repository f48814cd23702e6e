import type { Logger } from 'pino';
import type { DeviceError } from '../../driver.js';
import { classifyLossError, classifyOpenError } from './errors.js';
import { HotplugStream, type DeviceOpener, type HotplugCounters } from './hotplug-stream.js';
import { LineSplitter, type LineEnding } from './line-splitter.js';
import type { SerialPortConfig } from './schema.js';
import { serialOpener } from './serial-opener.js';

export interface LinePortOptions {
  port: SerialPortConfig;
  ending: LineEnding;
  maxLineBytes: number;
  /** See LineSplitterOptions: a pause inside a line abandons it (0 = never). */
  interCharTimeoutMs?: number;
  /** See LineSplitterOptions: bytes that only start a line (NMEA '$'). */
  lineStartBytes?: Buffer;
  log: Logger;
  /** `ts` is taken when the chunk that completed the line arrived. */
  onLine(line: Buffer, ts: number): void;
  onOverlong(count: number): void;
  /** Partial lines abandoned (pause, line-start byte) and every byte thrown away, overlong lines included. */
  onDiscarded?(fragments: number, bytes: number): void;
  /** Lines holding a CR/LF inside under an explicit ending: the configured ending is probably wrong. */
  onMixedEndings?(count: number): void;
  onOpen?(): void;
  onClosed?(err: DeviceError): void;
  /** Tests only: a different way to open the path. */
  opener?: DeviceOpener;
}

/** A serial port that yields bounded lines and survives unplugging. Shared by line-based drivers. */
export class SerialLinePort {
  private readonly stream: HotplugStream;
  private readonly splitter: LineSplitter;

  constructor(opts: LinePortOptions) {
    this.splitter = new LineSplitter({
      ending: opts.ending,
      maxLineBytes: opts.maxLineBytes,
      ...(opts.interCharTimeoutMs !== undefined ? { interCharTimeoutMs: opts.interCharTimeoutMs } : {}),
      ...(opts.lineStartBytes ? { lineStartBytes: opts.lineStartBytes } : {}),
    });
    const path = opts.port.path;
    this.stream = new HotplugStream({
      path,
      opener: opts.opener ?? serialOpener(opts.port),
      reopen: opts.port.reopen,
      log: opts.log,
      describe: (err, phase) => {
        const e = phase === 'open' ? classifyOpenError(path, err) : classifyLossError(path, err);
        return { code: e.code, message: e.message, ts: Date.now() };
      },
      onData: (chunk) => {
        const ts = Date.now();
        const { lines, overlong, fragments, discardedBytes, mixedEndings } = this.splitter.push(chunk, ts);
        if (overlong > 0) opts.onOverlong(overlong);
        if (fragments > 0 || discardedBytes > 0) opts.onDiscarded?.(fragments, discardedBytes);
        if (mixedEndings > 0) opts.onMixedEndings?.(mixedEndings);
        for (const line of lines) opts.onLine(line, ts);
      },
      onOpen: () => {
        // Bytes from before an unplug are half a line of nobody's data.
        this.splitter.reset();
        opts.onOpen?.();
      },
      ...(opts.onClosed ? { onClosed: opts.onClosed } : {}),
    });
  }

  get counters(): HotplugCounters {
    return this.stream.counters;
  }
  get isOpen(): boolean {
    return this.stream.isOpen;
  }
  get lastError(): DeviceError | null {
    return this.stream.lastError;
  }
  get resolvedPath(): string | null {
    return this.stream.resolvedPath;
  }

  start(): void {
    this.stream.start();
  }
  settled(): Promise<void> {
    return this.stream.settled();
  }
  stop(): Promise<void> {
    return this.stream.stop();
  }
}
