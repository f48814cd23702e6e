import { z } from 'zod';
import type { DriverReading } from '../../reading.js';
import { convertField, fieldConversionSchema, pointNameSchema } from './field-value.js';
import type { LineParser } from './parse-result.js';

const nmeaFieldSchema = z
  .object({
    /** 1-based field number after the address, as NMEA 0183 tables count (RMC: 1 = time, 2 = status). */
    field: z.number().int().min(1).max(100),
    point: pointNameSchema,
    ...fieldConversionSchema,
    /** latitude/longitude read "ddmm.mmmm" plus the N/S or E/W field after it into signed degrees. */
    type: z.enum(['number', 'string', 'bool', 'latitude', 'longitude']).default('number'),
  })
  .strict();

export const nmeaParseSchema = z
  .object({
    kind: z.literal('nmea'),
    /** `required`: a sentence without "*hh" is corrupt. `optional`: check it when present. */
    checksum: z.enum(['required', 'optional']).default('required'),
    /**
     * Keyed by full address ("GPRMC", "WIMDA") or by sentence type alone ("RMC", any talker).
     */
    sentences: z.record(z.string().regex(/^[A-Z0-9]{3,8}$/, 'an NMEA address such as GPRMC or RMC'), z.array(nmeaFieldSchema).min(1)),
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
      const r: DriverReading = { point: f.point, value, quality: 'good', ts, kind: 'telemetry' };
      const unit = f.unit ?? (f.type === 'latitude' || f.type === 'longitude' ? 'deg' : undefined);
      if (unit !== undefined) r.unit = unit;
      readings.push(r);
    }
    if (readings.length === 0) return { kind: 'unparsed', reason: `${address}: no configured field had a value` };
    return { kind: 'readings', readings, badFields };
  };
}
