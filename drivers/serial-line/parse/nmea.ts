import { z } from 'zod';
import type { DriverReading } from '../../../gateway/model/reading.js';
import { convertField, fieldConversionSchema, pointNameSchema } from './field-value.js';
import type { LineParser } from './parse-result.js';

const nmeaFieldSchema = z
  .object({
    /** 1-based field number after the address, as NMEA 0183 tables count (RMC: 1 = time, 2 = status). */
    field: z.number().int().min(1).max(100).describe('1-based field number after the address, as NMEA 0183 tables count (RMC: 1 = time, 2 = status).'),
    point: pointNameSchema.describe('Point name of this field\'s readings.'),
    ...fieldConversionSchema,
    /** latitude/longitude read "ddmm.mmmm" plus the N/S or E/W field after it into signed degrees. */
    type: z.enum(['number', 'string', 'bool', 'latitude', 'longitude']).default('number').describe('number, string, bool, or latitude/longitude (reads "ddmm.mmmm" plus the N/S or E/W field after it into signed degrees). Default number.'),
  })
  .strict();

export const nmeaParseSchema = z
  .object({
    kind: z.literal('nmea').describe('nmea: NMEA 0183 sentences ($GPRMC,... *hh).'),
    /** `required`: a sentence without "*hh" is corrupt. `optional`: check it when present. */
    checksum: z.enum(['required', 'optional']).default('required').describe('required: a sentence without "*hh" is corrupt and dropped; optional: checked when present. Default required.'),
    /**
     * A sentence that declares its own data invalid (RMC/GLL status V, GGA fix quality 0, GSA fix
     * mode 1, VTG/RMC mode N): its values are sent with quality `uncertain`, or not sent (`drop`,
     * counted as noFixDropped).
     */
    noFix: z
      .enum(['uncertain', 'drop'])
      .default('uncertain')
      .describe('Values from a sentence without a valid fix (RMC/GLL status V, GGA quality 0, GSA mode 1, VTG mode N): uncertain quality, or drop them'),
    /**
     * Keyed by full address ("GPRMC", "WIMDA") or by sentence type alone ("RMC", any talker).
     */
    sentences: z.record(z.string().regex(/^[A-Z0-9]{3,8}$/, 'an NMEA address such as GPRMC or RMC'), z.array(nmeaFieldSchema).min(1)).describe('Keyed by full address (GPRMC, WIMDA) or sentence type alone (RMC, any talker): the fields to read from it.'),
  })
  .strict()
  .refine((c) => Object.keys(c.sentences).length > 0, { message: 'at least one sentence is needed', path: ['sentences'] });

export type NmeaParseConfig = z.output<typeof nmeaParseSchema>;
type NmeaField = z.output<typeof nmeaFieldSchema>;

/** XOR of every character between the leading '$'/'!' and '*', as two upper-case hex digits. */
export function nmeaChecksum(body: string): string {
  let x = 0;
  for (let i = 0; i < body.length; i++) x ^= body.charCodeAt(i) & 0xff;
  return x.toString(16).toUpperCase().padStart(2, '0');
}

const COORD = /^\d+(?:\.\d+)?$/;

function coordinate(value: string | undefined, hemisphere: string | undefined, kind: 'latitude' | 'longitude'): number | null {
  if (value === undefined || !COORD.test(value)) return null;
  const v = Number(value);
  const deg = Math.floor(v / 100);
  const min = v - deg * 100;
  if (min >= 60) return null;
  const h = (hemisphere ?? '').toUpperCase();
  const ok = kind === 'latitude' ? h === 'N' || h === 'S' : h === 'E' || h === 'W';
  if (!ok) return null;
  const abs = deg + min / 60;
  if (abs > (kind === 'latitude' ? 90 : 180)) return null;
  return h === 'S' || h === 'W' ? -abs : abs;
}

/**
 * Where a sentence type says its data is invalid: field number and the values that mean "no fix".
 * Any one match makes the sentence invalid (RMC carries both a status and, since 2.3, a mode).
 */
const NO_FIX: Record<string, Array<{ field: number; values: string[] }>> = {
  RMC: [
    { field: 2, values: ['V'] },
    { field: 12, values: ['N'] },
  ],
  GLL: [
    { field: 6, values: ['V'] },
    { field: 7, values: ['N'] },
  ],
  GGA: [{ field: 6, values: ['0'] }],
  GSA: [{ field: 2, values: ['1'] }],
  VTG: [{ field: 9, values: ['N'] }],
};

function declaresNoFix(address: string, cols: string[]): boolean {
  const rules = NO_FIX[address.slice(-3)];
  return rules !== undefined && rules.some((r) => r.values.includes((cols[r.field] ?? '').toUpperCase()));
}

/** The unit of a field's readings: as configured, else degrees for a coordinate. */
export function nmeaFieldUnit(f: NmeaField): string | undefined {
  return f.unit ?? (f.type === 'latitude' || f.type === 'longitude' ? 'deg' : undefined);
}

export function compileNmeaParser(cfg: NmeaParseConfig): LineParser {
  const sentences = new Map<string, NmeaField[]>(Object.entries(cfg.sentences));
  const requireChecksum = cfg.checksum === 'required';
  return (raw, ts) => {
    const line = raw.trim();
    const lead = line[0];
    if (lead !== '$' && lead !== '!') return { kind: 'unparsed', reason: 'not an NMEA sentence (no leading $)' };
    const star = line.lastIndexOf('*');
    let body: string;
    if (star === -1) {
      if (requireChecksum) return { kind: 'checksum', reason: 'checksum missing' };
      body = line.slice(1);
    } else {
      body = line.slice(1, star);
      const given = line.slice(star + 1).toUpperCase();
      if (!/^[0-9A-F]{2}$/.test(given)) return { kind: 'checksum', reason: `malformed checksum ${JSON.stringify(given.slice(0, 8))}` };
      const want = nmeaChecksum(body);
      if (given !== want) return { kind: 'checksum', reason: `checksum ${given} != computed ${want}` };
    }
    const cols = body.split(',');
    const address = cols[0] ?? '';
    const fields = sentences.get(address) ?? (address.length > 3 ? sentences.get(address.slice(-3)) : undefined);
    if (!fields) return { kind: 'ignored' };
    const noFix = declaresNoFix(address, cols);
    if (noFix && cfg.noFix === 'drop') return { kind: 'noFix', reason: `${address}: sentence declares no valid fix` };
    const quality = noFix ? 'uncertain' : 'good';

    const readings: DriverReading[] = [];
    const badFields: string[] = [];
    for (const f of fields) {
      const text = cols[f.field];
      let value: number | string | boolean | null = null;
      if (f.type === 'latitude' || f.type === 'longitude') {
        value = coordinate(text, cols[f.field + 1], f.type);
      } else if (text !== undefined && text !== '') {
        const v = convertField(text, { point: f.point, type: f.type, unit: f.unit, scale: f.scale, offset: f.offset });
        if (v.ok) value = v.value;
      }
      // NMEA leaves a field empty when the instrument has no value (no fix, sensor fault).
      if (value === null) {
        badFields.push(f.point);
        continue;
      }
      const r: DriverReading = { point: f.point, value, quality, ts, kind: 'telemetry' };
      const unit = nmeaFieldUnit(f);
      if (unit !== undefined) r.unit = unit;
      readings.push(r);
    }
    if (readings.length === 0) return { kind: 'unparsed', reason: `${address}: no configured field had a value` };
    return { kind: 'readings', readings, badFields };
  };
}
