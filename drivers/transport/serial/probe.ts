import { classifyLossError, SerialPortError } from './errors.js';
import { LineSplitter } from './line-splitter.js';
import { openSerialPort } from './serial-opener.js';
import { lineEnding, type TerminatorConfig } from './terminator.js';

/**
 * `edge-gateway probe serial --port PATH --baud N`: open a port once (no reopen loop) and yield
 * what arrives, line by line, so a technician can check wiring, baud rate and framing on site.
 * Failures are SerialPortErrors whose `message` is meant to be printed as is (no stack).
 */
export interface SerialProbeOptions {
  port: string;
  baudRate: number;
  dataBits?: 5 | 6 | 7 | 8;
  parity?: 'none' | 'even' | 'odd' | 'mark' | 'space';
  stopBits?: 1 | 1.5 | 2;
  /** How lines end; 'any' (CR, LF or CRLF) like a serial-line device file's default. */
  terminator?: TerminatorConfig;
  maxLineBytes?: number;
  /** Stop after this many lines / when aborted (Ctrl-C). */
  maxLines?: number;
  signal?: AbortSignal;
}

export interface ProbedLine {
  ts: number;
  /** The line with control and non-ASCII bytes shown as \xNN, safe to print to a terminal. */
  text: string;
  bytes: Buffer;
  /** Overlong lines dropped since the previous yielded line (suggests a wrong baud rate or terminator). */
  droppedOverlong: number;
}

export function printable(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) out += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return out;
}

export async function* probeSerial(opts: SerialProbeOptions): AsyncGenerator<ProbedLine, void, void> {
  const port = await openSerialPort(opts.port, {
    baudRate: opts.baudRate,
    dataBits: opts.dataBits ?? 8,
    parity: opts.parity ?? 'none',
    stopBits: opts.stopBits ?? 1,
  });
  const splitter = new LineSplitter({ ending: lineEnding(opts.terminator ?? 'any'), maxLineBytes: opts.maxLineBytes ?? 1024 });
  const queue: ProbedLine[] = [];
  let dropped = 0;
  let failure: SerialPortError | null = null;
  let ended = false;
  let wake: (() => void) | null = null;
  const notify = (): void => {
    wake?.();
    wake = null;
  };

  port.on('data', (chunk: Buffer) => {
    const ts = Date.now();
    const r = splitter.push(chunk);
    dropped += r.overlong;
    for (const line of r.lines) {
      const stripped = line.at(-1) === 0x0d ? line.subarray(0, -1) : line;
      queue.push({ ts, text: printable(stripped), bytes: stripped, droppedOverlong: dropped });
      dropped = 0;
    }
    notify();
  });
  port.on('close', (err: unknown) => {
    if (!ended) failure = classifyLossError(opts.port, err ?? null);
    ended = true;
    notify();
  });
  port.on('error', (err: unknown) => {
    failure = classifyLossError(opts.port, err);
    notify();
  });
  const onAbort = (): void => {
    ended = true;
    notify();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  let yielded = 0;
  try {
    for (;;) {
      const next = queue.shift();
      if (next) {
        yield next;
        if (opts.maxLines !== undefined && ++yielded >= opts.maxLines) return;
        continue;
      }
      if (failure) throw failure;
      if (ended || opts.signal?.aborted) return;
      await new Promise<void>((r) => (wake = r));
    }
  } finally {
    ended = true;
    opts.signal?.removeEventListener('abort', onAbort);
    if (port.isOpen) await new Promise<void>((r) => port.close(() => r()));
  }
}
