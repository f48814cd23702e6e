import { z } from 'zod';
import { deviceBaseSchema } from '../device-schema.js';
import { serialPortSchema } from '../transport/serial/schema.js';
import { terminatorSchema } from '../transport/serial/terminator.js';
import { lineParseSchema } from './parse/compile.js';

export const serialLineDeviceSchema = deviceBaseSchema
  .extend({
    type: z.literal('serial-line'),
    port: serialPortSchema,
    /** LF by default with a trailing CR stripped, so CRLF and LF devices both just work. */
    delimiter: terminatorSchema.default('LF'),
    stripCR: z.boolean().default(true),
    /** Longer lines are dropped and counted (overlongLines); memory never grows past this. */
    maxLineBytes: z.number().int().min(16).max(65_536).default(1024),
    encoding: z.enum(['utf8', 'latin1', 'ascii']).default('utf8'),
    /** No good reading for this long while the port is open -> status degraded. */
    staleAfterMs: z.number().int().min(100).max(86_400_000).default(120_000),
    parse: lineParseSchema,
  })
  .strict();

export type SerialLineDeviceConfig = z.output<typeof serialLineDeviceSchema>;
