import { z } from 'zod';
import { fieldConversionSchema, pointNameSchema, type FieldSpec } from './field-value.js';
import { fieldsToReadings } from './fields-to-readings.js';
import type { LineParser } from './parse-result.js';

export const delimitedParseSchema = z
  .object({
    kind: z.literal('delimited').describe('delimited: split each line on a separator and pick fields by index.'),
    separator: z.string().min(1).max(8).default(',').describe('Field separator, 1-8 characters. Default ",".'),
    /** Only lines starting with this are parsed; others are ignored (stations interleave line types). */
    startsWith: z.string().min(1).optional().describe('Only lines starting with this are parsed; others are ignored (stations interleave line types).'),
    /** `index` is 0-based, counted after splitting the whole line (including any startsWith tag). */
    fields: z
      .array(z.object({ index: z.number().int().min(0).max(1000).describe('0-based column, counted after splitting the whole line (including any startsWith tag).'), point: pointNameSchema.describe('Point name of this field\'s readings.'), ...fieldConversionSchema }).strict())
      .min(1)
      .describe('Fields to read: { index, point, type, unit, scale, offset }.'),
  })
  .strict();

export type DelimitedParseConfig = z.output<typeof delimitedParseSchema>;

export function compileDelimitedParser(cfg: DelimitedParseConfig): LineParser {
  const fields: Array<[number, FieldSpec]> = cfg.fields.map((f) => [
    f.index,
    { point: f.point, type: f.type, unit: f.unit, scale: f.scale, offset: f.offset },
  ]);
  const { separator, startsWith } = cfg;
  return (line, ts) => {
    if (startsWith !== undefined && !line.startsWith(startsWith)) return { kind: 'ignored' };
    const cols = line.split(separator);
    if (cols.length === 1 && fields.some(([i]) => i > 0)) return { kind: 'unparsed', reason: `no '${separator}' separator in line` };
    return fieldsToReadings(
      fields.map(([i, spec]) => [cols[i], spec]),
      ts,
    );
  };
}
