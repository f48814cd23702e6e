import { z } from 'zod';
import { deviceBaseSchema } from '../device-schema.js';
import { serialPortSchema } from '../serial-port/schema.js';
import { interCharTimeoutSchema, terminatorSchema, type TerminatorConfig } from '../serial-port/terminator.js';
import { lineParseSchema } from './parse/compile.js';

export const serialLineDeviceSchema = deviceBaseSchema
  .extend({
    type: z.literal('serial-line'),
    port: serialPortSchema,
    /** The same option as a scanner's; `any` (default) takes CR, LF and CRLF alike. */
    terminator: terminatorSchema.optional(),
    /** Old name of `terminator`, still read so existing files work; config load warns. */
    delimiter: terminatorSchema.optional().describe('Deprecated: old name of terminator (still read; check-config warns)'),
    /** With terminator LF: a trailing CR is the rest of a CRLF, not data. */
    stripCR: z.boolean().default(true),
    interCharTimeoutMs: interCharTimeoutSchema,
    /** Longer lines are dropped and counted (overlongLines); memory never grows past this. */
    maxLineBytes: z.number().int().min(16).max(65_536).default(1024),
    encoding: z.enum(['utf8', 'latin1', 'ascii']).default('utf8'),
    /** No good reading for this long while the port is open -> status degraded. */
    staleAfterMs: z.number().int().min(100).max(86_400_000).default(120_000),
    parse: lineParseSchema,
  })
  .strict();

export type SerialLineDeviceConfig = z.output<typeof serialLineDeviceSchema>;

/** The line ending in effect: `terminator`, else the deprecated `delimiter`, else `any`. */
export function serialLineTerminator(cfg: Pick<SerialLineDeviceConfig, 'terminator' | 'delimiter'>): TerminatorConfig {
  return cfg.terminator ?? cfg.delimiter ?? 'any';
}
