import { z } from 'zod';
import { fieldConversionSchema, pointNameSchema, type FieldSpec } from './field-value.js';
import { fieldsToReadings } from './fields-to-readings.js';
import type { LineParser } from './parse-result.js';

const groupNameSchema = z.string().regex(/^[A-Za-z_$][A-Za-z0-9_$]*$/, 'a regex named-group name');

export const regexParseSchema = z
  .object({
    kind: z.literal('regex').describe('regex: match each line against a pattern with named groups.'),
    /** JavaScript regex with named groups, e.g. "^T=(?<temp>-?\\d+\\.\\d) H=(?<hum>\\d+)$". */
    pattern: z.string().min(1).max(2000).describe('JavaScript regex with named groups, e.g. "^T=(?<temp>-?\\d+\\.\\d) H=(?<hum>\\d+)$". Lines that do not match are counted as unparsed.'),
    ignoreCase: z.boolean().default(false).describe('Match letters case-insensitively. Default false.'),
    /** Named group -> reading. `point` defaults to the group name. */
    fields: z.record(
      groupNameSchema,
      z.object({ point: pointNameSchema.optional().describe('Point name of this field\'s readings. Default: the group name.'), ...fieldConversionSchema }).strict(),
    ).describe('Named group -> reading: { point, type, unit, scale, offset }. Every key must be a named group of pattern.'),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    let re: RegExp;
    try {
      re = new RegExp(cfg.pattern);
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['pattern'], message: `invalid regular expression: ${(err as Error).message}` });
      return;
    }
    const groups = namedGroups(re);
    const names = Object.keys(cfg.fields);
    if (names.length === 0) ctx.addIssue({ code: 'custom', path: ['fields'], message: 'at least one field is needed' });
    for (const name of names) {
      if (!groups.has(name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['fields', name],
          message: `pattern has no named group (?<${name}>...); groups are: ${[...groups].join(', ') || 'none'}`,
        });
      }
    }
  });

export type RegexParseConfig = z.output<typeof regexParseSchema>;

/** All named groups of `re`: an added empty alternative always matches, listing every group. */
function namedGroups(re: RegExp): Set<string> {
  const m = new RegExp(`(?:${re.source})|`).exec('');
  return new Set(Object.keys(m?.groups ?? {}));
}

export function compileRegexParser(cfg: RegexParseConfig): LineParser {
  const re = new RegExp(cfg.pattern, cfg.ignoreCase ? 'i' : '');
  const fields: Array<[string, FieldSpec]> = Object.entries(cfg.fields).map(([group, f]) => [
    group,
    { point: f.point ?? group, type: f.type, unit: f.unit, scale: f.scale, offset: f.offset },
  ]);
  return (line, ts) => {
    const m = re.exec(line);
    if (!m) return { kind: 'unparsed', reason: 'line does not match pattern' };
    const groups = m.groups ?? {};
    return fieldsToReadings(
      fields.map(([group, spec]) => [groups[group], spec]),
      ts,
    );
  };
}
