import { z } from 'zod';
import { deviceBaseSchema } from '../device-schema.js';
import { serialPortSchema } from '../transport/serial/schema.js';
import { interCharTimeoutSchema, terminatorSchema, type TerminatorConfig } from '../transport/serial/terminator.js';
import { lineParseSchema } from './parse/compile.js';

export const serialLineDeviceSchema = deviceBaseSchema
  .extend({
    type: z.literal('serial-line').describe('serial-line: a sensor that prints lines (weather station, counter, NMEA); each parsed field becomes a reading. A change to this file is applied by `edge-gateway reload`, which restarts only this device.'),
    port: serialPortSchema.describe('The sensor\'s serial port and line settings.'),
    /** The same option as a scanner's; `any` (default) takes CR, LF and CRLF alike. */
    terminator: terminatorSchema.optional().describe('What ends a line: any (CR, LF or CRLF, whichever the device sends; the default), LF, CR, CRLF, TAB, or { custom: "..." }. The same option as a scanner\'s.'),
    /** Old name of `terminator`, still read so existing files work; config load warns. */
    delimiter: terminatorSchema.optional().describe('Deprecated: old name of terminator (still read; check-config warns)'),
    /** With terminator LF: a trailing CR is the rest of a CRLF, not data. */
    stripCR: z.boolean().default(true).describe('With terminator LF: remove a trailing CR from each line (the rest of a CRLF). Default true.'),
    interCharTimeoutMs: interCharTimeoutSchema,
    /** Longer lines are dropped and counted (overlongLines); memory never grows past this. */
    maxLineBytes: z.number().int().min(16).max(65_536).default(1024).describe('Longer lines are dropped and counted (overlongLines); memory never grows past this. Bytes, 16-65536. Default 1024.'),
    encoding: z.enum(['utf8', 'latin1', 'ascii']).default('utf8').describe('How line bytes are read: utf8, latin1 or ascii. Default utf8.'),
    /** No good reading for this long while the port is open -> status degraded. */
    staleAfterMs: z.number().int().min(100).max(86_400_000).default(120_000).describe('No good reading for this long while the port is open -> state degraded. Milliseconds. Default 120000.'),
    parse: lineParseSchema.describe('How a line becomes readings: kind regex (named groups), delimited (split on a separator) or nmea (NMEA 0183 sentences with checksum).'),
  })
  .strict();

export type SerialLineDeviceConfig = z.output<typeof serialLineDeviceSchema>;

/** The line ending in effect: `terminator`, else the deprecated `delimiter`, else `any`. */
export function serialLineTerminator(cfg: Pick<SerialLineDeviceConfig, 'terminator' | 'delimiter'>): TerminatorConfig {
  return cfg.terminator ?? cfg.delimiter ?? 'any';
}
