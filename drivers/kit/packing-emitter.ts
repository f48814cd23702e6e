import type { PackedReadings } from '../../gateway/model/packed-readings.js';
import type { DriverReading } from '../../gateway/model/reading.js';
import type { DriverContext } from '../driver.js';
import type { PointSet } from './point-set.js';

/**
 * Hands a driver's readings to the core with the good values packed (`DriverContext.emitPacked`),
 * for drivers that build reading objects anyway (serial line, GPIO, OPC-UA): the saving is on
 * the wire and on disk, where packed readings become payload v2 poll records (docs/payload.md).
 * Modbus packs straight from the answer's bytes instead (modbus/poll-emitter.ts).
 *
 * What is packed: a good, finite number or boolean of a declared point (its unit as declared),
 * telemetry without attrs. Everything else (bad, uncertain, strings, events, a reading with
 * attrs such as a partial interval) goes to `emit` as it came.
 *
 * Readings are grouped into runs of one timestamp: a stretch of consecutive readings with the
 * same `ts` and no point twice. Within a stretch the packed run goes before the plain readings
 * (same timestamp, different points: their order does not matter, as with Modbus); across
 * stretches the order is kept, so two values of one point always arrive in the order read.
 * Without `emitPacked` (an older core) the readings go to `emit` unchanged.
 */
export class PackingEmitter {
  constructor(
    private readonly points: PointSet,
    private readonly ctx: DriverContext,
  ) {}

  emit(readings: readonly DriverReading[]): void {
    if (readings.length === 0) return;
    const emitPacked = this.ctx.emitPacked;
    if (emitPacked === undefined) {
      this.ctx.emit(readings.slice());
      return;
    }
    for (const part of this.split(readings)) {
      if (part.packed) emitPacked.call(this.ctx, part.packed);
      else this.ctx.emit(part.plain);
    }
  }

  /** The readings as alternating packed and plain parts, in the order described above. */
  private split(readings: readonly DriverReading[]): Part[] {
    const parts: Part[] = [];
    const addRun = (run: PackedReadings) => {
      const last = parts.at(-1);
      if (last?.packed) last.packed.push(run);
      else parts.push({ packed: [run] });
    };
    const addPlain = (r: readonly DriverReading[]) => {
      if (r.length === 0) return;
      const last = parts.at(-1);
      if (last?.plain) last.plain.push(...r);
      else parts.push({ plain: r.slice() });
    };
    let start = 0;
    while (start < readings.length) {
      const ts = readings[start]!.ts;
      const seen = new Set<string>();
      const indices: number[] = [];
      const values: (number | boolean)[] = [];
      const good: DriverReading[] = [];
      const plain: DriverReading[] = [];
      let end = start;
      for (; end < readings.length; end++) {
        const r = readings[end]!;
        if (end > start && (r.ts !== ts || seen.has(r.point))) break;
        seen.add(r.point);
        const i = packable(r) ? this.points.indexOf(r.point, r.unit) : undefined;
        if (i === undefined) plain.push(r);
        else {
          indices.push(i);
          values.push(r.value as number | boolean);
          good.push(r);
        }
      }
      const points = indices.length > 0 ? this.points.points(indices) : undefined;
      if (points !== undefined) addRun({ points, count: values.length, ts, value: (i) => values[i]! });
      else plain.unshift(...good);
      addPlain(plain);
      start = end;
    }
    return parts;
  }
}

type Part = { packed: PackedReadings[]; plain?: undefined } | { plain: DriverReading[]; packed?: undefined };

/** A good, finite number or boolean sample with nothing a poll record cannot carry. */
export function packable(r: DriverReading): boolean {
  if (r.quality !== 'good' || r.kind === 'event' || r.attrs !== undefined || !Number.isFinite(r.ts)) return false;
  return typeof r.value === 'boolean' || (typeof r.value === 'number' && Number.isFinite(r.value));
}
