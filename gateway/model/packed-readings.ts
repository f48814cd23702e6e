import type { DriverReading } from './reading.js';

/**
 * Good readings of one device read, all taken at the same instant, kept as the values' source
 * (e.g. the bytes of a Modbus answer) until the outbox encodes them: no object per value on the
 * way. The point names and units are compiled once per device config (`PackedPoints`), so the
 * encoder caches each point's constant JSON once and a poll costs one string per value.
 * A driver may hand these to `DriverContext.emitPacked`; `expandPacked` gives the plain readings
 * (for a context without it, and for `tail`).
 */
export interface PackedPoints {
  readonly names: readonly string[];
  readonly units: readonly (string | undefined)[];
}

export interface PackedReadings {
  readonly points: PackedPoints;
  /** One reading per point, in `points` order. */
  readonly count: number;
  readonly ts: number;
  /** Value of reading i: a finite number or a boolean (quality good by construction). */
  value(i: number): number | boolean;
}

export function expandPacked(p: PackedReadings): DriverReading[] {
  const out: DriverReading[] = [];
  for (let i = 0; i < p.count; i++) {
    const unit = p.points.units[i];
    out.push({ point: p.points.names[i]!, value: p.value(i), quality: 'good', ts: p.ts, ...(unit !== undefined ? { unit } : {}) });
  }
  return out;
}
