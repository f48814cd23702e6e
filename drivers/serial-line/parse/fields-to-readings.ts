import type { DriverReading } from '../../../gateway/model/reading.js';
import { convertField, type FieldSpec } from './field-value.js';
import type { LineParseResult } from './parse-result.js';

/** Converts the (raw text, spec) pairs of one line; a line where nothing converts is unparsed. */
export function fieldsToReadings(pairs: Array<[string | undefined, FieldSpec]>, ts: number): LineParseResult {
  const readings: DriverReading[] = [];
  const badFields: string[] = [];
  const reasons: string[] = [];
  for (const [raw, spec] of pairs) {
    if (raw === undefined) {
      badFields.push(spec.point);
      reasons.push(`${spec.point}: missing`);
      continue;
    }
    const v = convertField(raw, spec);
    if (!v.ok) {
      badFields.push(spec.point);
      reasons.push(`${spec.point}: ${v.reason}`);
      continue;
    }
    const r: DriverReading = { point: spec.point, value: v.value, quality: 'good', ts, kind: 'telemetry' };
    if (spec.unit !== undefined) r.unit = spec.unit;
    readings.push(r);
  }
  if (readings.length === 0) return { kind: 'unparsed', reason: reasons.join('; ') || 'no fields' };
  return { kind: 'readings', readings, badFields };
}
