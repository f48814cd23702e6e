import type { DriverReading } from '../../gateway/model/reading.js';
import type { Block } from './decode.js';
import type { ModbusError } from './errors.js';
import type { ReadPlan, ReadRequest } from './plan.js';

/** A request's outcome with its answer as words/bits (the path for errors and values that decode bad). */
export type BlockResult = { request: ReadRequest; data: Block; error?: undefined } | { request: ReadRequest; error: ModbusError; data?: undefined };

/**
 * Turns poll results into readings, applying the bad-quality policy for a central system:
 * every poll emits a good reading for every point it read; a point that cannot be read (device
 * down, exception, undecodable value) gets ONE reading `{ value: null, quality: 'bad' }` when it
 * goes bad, carrying the error code in `attrs.error`, and then nothing until it is good again.
 * The transition is timestamped and stored durably, the outbox and the uplink are not filled with
 * copies of "still broken", and the ongoing condition is visible in the device status.
 */
export class ReadingAssembler {
  private readonly bad = new Set<string>();
  private readonly units = new Map<string, string>();

  constructor(private readonly plan: ReadPlan) {
    for (const r of plan.requests) for (const p of r.points) if (p.unit !== undefined) this.units.set(p.name, p.unit);
  }

  fromResults(results: readonly BlockResult[], ts: number): DriverReading[] {
    const out: DriverReading[] = [];
    for (const r of results) {
      for (const p of r.request.points) {
        if (r.data !== undefined) {
          const d = p.decode(r.data);
          if (d.quality === 'good') {
            this.bad.delete(p.name);
            out.push({ point: p.name, value: d.value, quality: 'good', ts, ...(p.unit !== undefined ? { unit: p.unit } : {}) });
            continue;
          }
          this.pushBad(out, p.name, 'EDECODE', ts);
        } else {
          this.pushBad(out, p.name, r.error.code, ts);
        }
      }
    }
    return out;
  }

  /** These points read good (on the packed path): the next failure is a transition again. */
  markGood(points: readonly string[]): void {
    if (this.bad.size === 0) return;
    for (const p of points) this.bad.delete(p);
  }

  /** Every point of the device failed for one reason (e.g. it refused the connection). */
  allBad(code: string, ts: number): DriverReading[] {
    const out: DriverReading[] = [];
    for (const name of this.plan.pointNames) this.pushBad(out, name, code, ts);
    return out;
  }

  private pushBad(out: DriverReading[], point: string, code: string, ts: number): void {
    if (this.bad.has(point)) return;
    this.bad.add(point);
    const unit = this.units.get(point);
    out.push({ point, value: null, quality: 'bad', ts, ...(unit !== undefined ? { unit } : {}), attrs: { error: code } });
  }
}
