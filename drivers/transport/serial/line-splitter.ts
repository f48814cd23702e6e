/**
 * Splits a byte stream into lines with a hard bound on memory, and resynchronises after noise.
 *
 * Devices on a serial line can send anything — a baud-rate mismatch, a loose connector or a
 * scanner rebooting produces runs of bytes with or without line endings. So:
 * - a line longer than `maxLineBytes` is dropped (never buffered beyond the bound) and reported
 *   via `overlong`; splitting resumes after its ending, after a pause, or at a line-start byte;
 * - a partial line followed by silence longer than `interCharTimeoutMs` is abandoned: a device
 *   sends a line in one burst, so the bytes after a pause start a new line instead of being glued
 *   to the noise before them (the old failure: a real scan arriving with noise in front, or
 *   swallowed by the skip of an overlong line);
 * - a `lineStartBytes` byte ('$' and '!' for NMEA) inside a line abandons what came before it.
 * Every abandoned byte is counted (`fragments`, `discardedBytes`): nothing is dropped silently.
 *
 * Silence is measured between chunk arrivals (`ts` of push): inside one chunk there is no timing.
 */
export type LineEnding = Buffer | 'any';

export interface LineSplitterOptions {
  /** `any`: CR, LF and CRLF each end a line. Otherwise exactly this byte sequence. */
  ending: LineEnding;
  maxLineBytes: number;
  /** A pause longer than this inside a line abandons the partial line; 0 or absent = never. */
  interCharTimeoutMs?: number;
  /** Bytes that only ever start a line (NMEA '$' and '!'): one inside a line abandons the bytes before it. */
  lineStartBytes?: Buffer;
}

export interface SplitResult {
  lines: Buffer[];
  /** Lines dropped because they exceeded maxLineBytes; each counted once, when the bound is hit. */
  overlong: number;
  /** Partial lines abandoned by a pause or a line-start byte (overlong lines not included). */
  fragments: number;
  /** Bytes thrown away as fragments or overlong lines (line endings themselves not counted). */
  discardedBytes: number;
  /** Lines that contain a CR or LF inside although another ending was configured: a wrong setting merges lines. */
  mixedEndings: number;
}

const CR = 0x0d;
const LF = 0x0a;

function onlyEndings(buf: Buffer): boolean {
  for (const b of buf) if (b !== CR && b !== LF) return false;
  return true;
}

export class LineSplitter {
  private readonly ending: Buffer | null;
  private readonly maxLineBytes: number;
  private readonly gapMs: number;
  private readonly startBytes: Buffer | null;
  private pending: Buffer = Buffer.alloc(0);
  /** True while skipping the rest of an overlong line up to its ending. */
  private discarding = false;
  /** `any` mode: the last line ended in a CR, so an LF right after it is the rest of a CRLF. */
  private afterCR = false;
  private lastTs: number | null = null;

  constructor(opts: LineSplitterOptions) {
    if (opts.ending !== 'any' && opts.ending.length === 0) throw new RangeError('line ending must not be empty');
    if (!Number.isInteger(opts.maxLineBytes) || opts.maxLineBytes < 1) throw new RangeError('maxLineBytes must be a positive integer');
    this.ending = opts.ending === 'any' ? null : Buffer.from(opts.ending);
    this.maxLineBytes = opts.maxLineBytes;
    this.gapMs = opts.interCharTimeoutMs ?? 0;
    this.startBytes = opts.lineStartBytes && opts.lineStartBytes.length > 0 ? Buffer.from(opts.lineStartBytes) : null;
  }

  /** Bytes currently held waiting for an ending (never more than maxLineBytes + ending - 1). */
  get bufferedBytes(): number {
    return this.pending.length;
  }

  push(chunk: Buffer, ts: number = Date.now()): SplitResult {
    const r: SplitResult = { lines: [], overlong: 0, fragments: 0, discardedBytes: 0, mixedEndings: 0 };
    if (this.gapMs > 0 && this.lastTs !== null && ts - this.lastTs > this.gapMs) this.abandon(r);
    this.lastTs = ts;
    const data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    let start = 0;
    if (this.afterCR && data.length > 0) {
      if (data[0] === LF) start = 1;
      this.afterCR = false;
    }
    const finder = this.ending ? this.explicitFinder(data) : this.anyFinder(data);
    for (;;) {
      const end = finder(start);
      if (end === null) break;
      this.finishLine(data.subarray(start, end.at), r);
      start = end.at + end.len;
      if (end.endsInCR) this.afterCR = true;
    }
    this.keepRest(data.subarray(start), r);
    return r;
  }

  /** Forget any partial line, e.g. after the device was reopened (old bytes belong to nobody). */
  reset(): void {
    this.pending = Buffer.alloc(0);
    this.discarding = false;
    this.afterCR = false;
    this.lastTs = null;
  }

  private explicitFinder(data: Buffer): (from: number) => { at: number; len: number; endsInCR: boolean } | null {
    const ending = this.ending!;
    return (from) => {
      const at = data.indexOf(ending, from);
      return at === -1 ? null : { at, len: ending.length, endsInCR: false };
    };
  }

  /** First CR or LF from `from`; a CR directly followed by LF is one ending. Positions cached so a chunk is scanned once. */
  private anyFinder(data: Buffer): (from: number) => { at: number; len: number; endsInCR: boolean } | null {
    let nextCR = -2;
    let nextLF = -2;
    return (from) => {
      if (nextCR !== -1 && nextCR < from) nextCR = data.indexOf(CR, from);
      if (nextLF !== -1 && nextLF < from) nextLF = data.indexOf(LF, from);
      if (nextCR === -1 && nextLF === -1) return null;
      if (nextCR === -1 || (nextLF !== -1 && nextLF < nextCR)) return { at: nextLF, len: 1, endsInCR: false };
      if (nextCR + 1 < data.length) return { at: nextCR, len: data[nextCR + 1] === LF ? 2 : 1, endsInCR: false };
      // CR is the last byte seen: the LF of a CRLF may come in the next chunk.
      return { at: nextCR, len: 1, endsInCR: true };
    };
  }

  /** Index of the last line-start byte at or after `min` (-1 if none). */
  private lastStart(buf: Buffer, min: number): number {
    if (!this.startBytes) return -1;
    for (let i = buf.length - 1; i >= min; i--) if (this.startBytes.includes(buf[i]!)) return i;
    return -1;
  }

  /** Drops `bytes` as fragments: each line-start byte inside it began a line of its own that was cut off. */
  private dropFragment(bytes: Buffer, r: SplitResult): void {
    let from = 0;
    for (let i = 1; i <= bytes.length; i++) {
      if (i < bytes.length && !this.startBytes?.includes(bytes[i]!)) continue;
      const piece = bytes.subarray(from, i);
      if (piece.length > 0 && !onlyEndings(piece)) {
        r.fragments++;
        r.discardedBytes += piece.length;
      }
      from = i;
    }
  }

  /**
   * Ends the skip of an overlong line at a line-start byte: the bytes before the first one were
   * the overlong line's, each start byte after it began a line of its own (fragments). Returns
   * where the kept line starts, or -1 when there is no start byte.
   */
  private endDiscard(buf: Buffer, r: SplitResult): number {
    const k = this.lastStart(buf, 0);
    if (k === -1) {
      r.discardedBytes += buf.length;
      return -1;
    }
    let first = 0;
    while (!this.startBytes!.includes(buf[first]!)) first++;
    r.discardedBytes += first;
    this.dropFragment(buf.subarray(first, k), r);
    return k;
  }

  private finishLine(line: Buffer, r: SplitResult): void {
    if (this.discarding) {
      this.discarding = false;
      // A line-start byte inside the skipped rest begins a real line: keep it.
      const k = this.endDiscard(line, r);
      if (k === -1) return;
      line = line.subarray(k);
    } else {
      const k = this.lastStart(line, 1);
      if (k > 0) {
        this.dropFragment(line.subarray(0, k), r);
        line = line.subarray(k);
      }
    }
    if (line.length > this.maxLineBytes) {
      r.overlong++;
      r.discardedBytes += line.length;
      return;
    }
    if (this.ending && this.containsOtherEnding(line)) r.mixedEndings++;
    // Copy so a returned line does not pin the (possibly 64 KiB) read buffer.
    r.lines.push(Buffer.from(line));
  }

  /** A CR or LF inside the line; a leading LF or trailing CR is only the other half of a CRLF. */
  private containsOtherEnding(line: Buffer): boolean {
    const from = line[0] === LF ? 1 : 0;
    const to = line.length > from && line[line.length - 1] === CR ? line.length - 1 : line.length;
    for (let i = from; i < to; i++) if (line[i] === CR || line[i] === LF) return true;
    return false;
  }

  private keepRest(rest: Buffer, r: SplitResult): void {
    // Keep a possible partial ending even while discarding, so "\r" + "\n" split across chunks
    // still ends the skipped line.
    const keepForEnding = this.ending ? this.ending.length - 1 : 0;
    if (this.discarding) {
      if (this.lastStart(rest, 0) === -1) {
        const kept = Math.min(rest.length, keepForEnding);
        r.discardedBytes += rest.length - kept;
        this.pending = Buffer.from(rest.subarray(rest.length - kept));
        return;
      }
      this.discarding = false;
      rest = rest.subarray(this.endDiscard(rest, r));
    } else {
      const k = this.lastStart(rest, 1);
      if (k > 0) {
        this.dropFragment(rest.subarray(0, k), r);
        rest = rest.subarray(k);
      }
    }
    if (rest.length > this.maxLineBytes + keepForEnding) {
      r.overlong++;
      this.discarding = true;
      r.discardedBytes += rest.length - keepForEnding;
      this.pending = Buffer.from(rest.subarray(rest.length - keepForEnding));
    } else {
      this.pending = Buffer.from(rest);
    }
  }

  /** Silence: whatever is pending was never finished and belongs to nobody. */
  private abandon(r: SplitResult): void {
    if (this.discarding) {
      // The overlong line was already counted when it hit the bound; a pause ends its skip.
      this.discarding = false;
      r.discardedBytes += this.pending.length;
    } else {
      this.dropFragment(this.pending, r);
    }
    this.pending = Buffer.alloc(0);
  }
}
