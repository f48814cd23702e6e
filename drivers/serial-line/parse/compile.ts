import { z } from 'zod';
import { compileDelimitedParser, delimitedParseSchema } from './delimited.js';
import type { DeclaredPoint } from '../../kit/point-set.js';
import { compileNmeaParser, nmeaFieldUnit, nmeaParseSchema } from './nmea.js';
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

/** Every point a line can yield, with its unit: what the driver packs and what `report.points` may name. */
export function linePoints(cfg: LineParseConfig): DeclaredPoint[] {
  switch (cfg.kind) {
    case 'regex':
      return Object.entries(cfg.fields).map(([group, f]) => ({ name: f.point ?? group, unit: f.unit }));
    case 'delimited':
      return cfg.fields.map((f) => ({ name: f.point, unit: f.unit }));
    case 'nmea':
      return Object.values(cfg.sentences).flatMap((fields) => fields.map((f) => ({ name: f.point, unit: nmeaFieldUnit(f) })));
  }
}
