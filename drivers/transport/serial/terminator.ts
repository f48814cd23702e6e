import { z } from 'zod';
import type { LineEnding } from './line-splitter.js';

/**
 * How a line (a scan, a sensor sample) ends: `any` (CR, LF or CRLF, whichever the device sends),
 * one of them by name, or `{ custom: "\u0003" }` for devices with their own (ETX...).
 */
/** The terminators a device file (and `probe serial --terminator`) can name. */
export const LINE_END_NAMES = ['any', 'LF', 'CR', 'CRLF', 'TAB'] as const;
export type LineEndName = (typeof LINE_END_NAMES)[number];

export const terminatorSchema = z
  .union([
    z.enum(LINE_END_NAMES),
    z.object({ custom: z.string().min(1).max(8).describe('Terminator bytes of your own, 1-8 characters, e.g. "\\u0003" (ETX).') }).strict(),
  ])
  .describe('How each line (scan, sample) ends: any (CR, LF or CRLF, the default), LF, CR, CRLF, TAB, or { custom: "\\u0003" }');

export type TerminatorConfig = z.output<typeof terminatorSchema>;

const NAMED: Record<Exclude<LineEndName, 'any'>, string> = { LF: '\n', CR: '\r', CRLF: '\r\n', TAB: '\t' };

/** The splitter's view of a terminator: `any`, or the exact bytes. */
export function lineEnding(t: TerminatorConfig): LineEnding {
  if (t === 'any') return 'any';
  return Buffer.from(typeof t === 'string' ? NAMED[t] : t.custom, 'latin1');
}

/**
 * Silence inside a line after which the partial line is abandoned and counted, and the next byte
 * starts a new line. A scanner or sensor sends a line in one burst (a 100-byte line at 9600 baud
 * takes ~100 ms); 0 turns it off for a device that pauses mid-line.
 */
export const interCharTimeoutSchema = z
  .number()
  .int()
  .min(0)
  .max(60_000)
  .default(300)
  .describe('Pause (ms) inside a line after which the partial line is dropped and counted as a fragment; the bytes after the pause start a new line. 0 = off');
