/**
 * Splits a byte stream into lines with a hard bound on memory. Devices on a serial line can send
 * anything — a baud-rate mismatch or a stuck scanner produces an endless run of bytes with no
 * delimiter — so a line longer than `maxLineBytes` is dropped (never buffered beyond the bound)
 * and reported via `overlong`, and splitting resumes after the next delimiter.
 */
export interface LineSplitterOptions {
  delimiter: Buffer;
  maxLineBytes: number;
}

export interface SplitResult {
  lines: Buffer[];
  /** Lines dropped because they exceeded maxLineBytes; each counted once, when the bound is hit. */
  overlong: number;
}

export class LineSplitter {
  private readonly delimiter: Buffer;
  private readonly maxLineBytes: number;
  private pending: Buffer = Buffer.alloc(0);
  /** True while skipping the rest of an overlong line up to its delimiter. */
  private discarding = false;

  constructor(opts: LineSplitterOptions) {
    if (opts.delimiter.length === 0) throw new RangeError('line delimiter must not be empty');
    if (!Number.isInteger(opts.maxLineBytes) || opts.maxLineBytes < 1) throw new RangeError('maxLineBytes must be a positive integer');
    this.delimiter = Buffer.from(opts.delimiter);
    this.maxLineBytes = opts.maxLineBytes;
  }

  /** Bytes currently held waiting for a delimiter (never more than maxLineBytes + delimiter - 1). */
  get bufferedBytes(): number {
    return this.pending.length;
  }

  push(chunk: Buffer): SplitResult {
    const result: SplitResult = { lines: [], overlong: 0 };
    const data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    let start = 0;
    for (;;) {
      const at = data.indexOf(this.delimiter, start);
      if (at === -1) break;
      if (this.discarding) {
        this.discarding = false;
      } else if (at - start > this.maxLineBytes) {
        result.overlong++;
      } else {
        // Copy so a returned line does not pin the (possibly 64 KiB) read buffer.
        result.lines.push(Buffer.from(data.subarray(start, at)));
      }
      start = at + this.delimiter.length;
    }
    const rest = data.subarray(start);
    // Keep a possible partial delimiter even while discarding, so "\r" + "\n" split across
    // chunks still ends the skipped line.
    const keepForDelimiter = this.delimiter.length - 1;
    if (this.discarding) {
      this.pending = Buffer.from(rest.subarray(Math.max(0, rest.length - keepForDelimiter)));
    } else if (rest.length > this.maxLineBytes + keepForDelimiter) {
      result.overlong++;
      this.discarding = true;
      this.pending = Buffer.from(rest.subarray(rest.length - keepForDelimiter));
    } else {
      this.pending = Buffer.from(rest);
    }
    return result;
  }

  /** Forget any partial line, e.g. after the device was reopened (old bytes belong to nobody). */
  reset(): void {
    this.pending = Buffer.alloc(0);
    this.discarding = false;
  }
}
