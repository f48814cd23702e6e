import { z } from 'zod';
import { compileDelimitedParser, delimitedParseSchema } from './delimited.js';
import { compileNmeaParser, nmeaParseSchema } from './nmea.js';
import type { LineParser } from './parse-result.js';
import { compileRegexParser, regexParseSchema } from './regex.js';

export const lineParseSchema = z.discriminatedUnion('kind', [regexParseSchema, delimitedParseSchema, nmeaParseSchema]);
export type LineParseConfig = z.output<typeof lineParseSchema>;

/** Builds the parser once, when config loads; the per-line path only runs the compiled closure. */
export function compileLineParser(cfg: LineParseConfig): LineParser {
  switch (cfg.kind) {
    case 'regex':
      return compileRegexParser(cfg);
    case 'delimited':
      return compileDelimitedParser(cfg);
    case 'nmea':
      return compileNmeaParser(cfg);
  }
}
