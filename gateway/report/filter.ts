import type { PackedPoints, PackedReadings } from '../model/packed-readings.js';
import type { DriverReading } from '../model/reading.js';
import { decide, sentState, type SentState } from './point-decision.js';
import { compileReport, type ReportConfig, type CompiledReport } from './rules.js';
import type { DeviceStates } from './state-file.js';

/**
 * Report by exception, between what drivers emit and the group commit: one place for every
 * driver family. Each device's `report:` block is compiled once (rules.ts); a device without one
 * passes through untouched. Events always pass (they are happenings, not samples). A packed run
 * stays packed when all its points pass; when some do, the ones that changed go on as a smaller
 * packed run over a subset of the points (cached per subset, so a v2 layout is made once per
 * subset) and heartbeats go as plain readings marked `attrs.report = "heartbeat"`.
 */

export interface ReportDevice {
  readonly id: string;
  readonly report?: ReportConfig | undefined;
}

export interface ReportStats {
  passed: number;
  held: number;
  heartbeats: number;
}

/** Subsets of one compiled point list kept packed; past this many, a partial run is sent as plain readings. */
const MAX_SUBSETS_PER_POINTS = 256;

export class ReportFilter {
  private rules = new Map<string, CompiledReport>();
  private readonly states: DeviceStates;
  private readonly subsets = new WeakMap<PackedPoints, Map<string, PackedPoints>>();
  private readonly counts: ReportStats = { passed: 0, held: 0, heartbeats: 0 };

  constructor(restored: DeviceStates | null = null) {
    this.states = restored ?? new Map();
  }

  /** The device list at start and on every reload; the sent state of a device survives a rule change. */
  configure(devices: readonly ReportDevice[]): void {
    const rules = new Map<string, CompiledReport>();
    for (const d of devices) {
      const compiled = compileReport(d.report);
      if (compiled) rules.set(d.id, compiled);
    }
    this.rules = rules;
  }

  /** Whether any device filters (the daemon skips the filter entirely when none does). */
  get active(): boolean {
    return this.rules.size > 0;
  }

  stats(): ReportStats {
    return { ...this.counts };
  }

  /** What the consumer holds per device and point, for the state file at a clean stop. */
  sentStates(): DeviceStates {
    return this.states;
  }

  /** The readings to send, in order: `readings` itself when the device does not filter. */
  readings(device: string, readings: readonly DriverReading[]): readonly DriverReading[] {
    const compiled = this.rules.get(device);
    if (compiled === undefined) return readings;
    const sent = this.stateOf(device);
    const out: DriverReading[] = [];
    for (const r of readings) {
      const rule = r.kind === 'event' ? null : compiled.ruleFor(r.point);
      if (rule === null) {
        out.push(r);
        continue;
      }
      const d = decide(rule, sent.get(r.point), r.value, r.quality, r.ts);
      if (d === 'hold') {
        this.counts.held++;
        continue;
      }
      sent.set(r.point, sentState(r.value, r.quality, r.ts));
      if (d === 'heartbeat') {
        this.counts.heartbeats++;
        out.push({ ...r, attrs: { ...r.attrs, report: 'heartbeat' } });
      } else {
        this.counts.passed++;
        out.push(r);
      }
    }
    return out;
  }

  /**
   * Packed runs to send as packed, and heartbeats as plain readings (to go after them: same
   * timestamps, so their order against the packed values of the same poll does not matter).
   */
  packed(device: string, runs: readonly PackedReadings[]): { runs: readonly PackedReadings[]; readings: readonly DriverReading[] } {
    const compiled = this.rules.get(device);
    if (compiled === undefined) return { runs, readings: [] };
    const sent = this.stateOf(device);
    const outRuns: PackedReadings[] = [];
    const outReadings: DriverReading[] = [];
    const changed: number[] = [];
    for (const run of runs) {
      changed.length = 0;
      const names = run.points.names;
      for (let i = 0; i < run.count; i++) {
        const point = names[i]!;
        const rule = compiled.ruleFor(point);
        const value = run.value(i);
        if (rule === null) {
          changed.push(i);
          continue;
        }
        const d = decide(rule, sent.get(point), value, 'good', run.ts);
        if (d === 'hold') {
          this.counts.held++;
          continue;
        }
        sent.set(point, { value, ts: run.ts });
        if (d === 'change') {
          this.counts.passed++;
          changed.push(i);
        } else {
          this.counts.heartbeats++;
          const unit = run.points.units[i];
          outReadings.push({ point, value, quality: 'good', ts: run.ts, ...(unit !== undefined ? { unit } : {}), attrs: { report: 'heartbeat' } });
        }
      }
      if (changed.length === run.count) outRuns.push(run);
      else if (changed.length > 0) this.partial(run, changed, outRuns, outReadings);
    }
    return { runs: outRuns, readings: outReadings };
  }

  /** The changed points of a run: a packed run over that subset, or plain readings past the cache bound. */
  private partial(run: PackedReadings, changed: readonly number[], outRuns: PackedReadings[], outReadings: DriverReading[]): void {
    let bySubset = this.subsets.get(run.points);
    if (bySubset === undefined) this.subsets.set(run.points, (bySubset = new Map()));
    const key = changed.join(',');
    let points = bySubset.get(key);
    if (points === undefined && bySubset.size < MAX_SUBSETS_PER_POINTS) {
      points = { names: changed.map((i) => run.points.names[i]!), units: changed.map((i) => run.points.units[i]) };
      bySubset.set(key, points);
    }
    if (points === undefined) {
      for (const i of changed) {
        const unit = run.points.units[i];
        outReadings.push({ point: run.points.names[i]!, value: run.value(i), quality: 'good', ts: run.ts, ...(unit !== undefined ? { unit } : {}) });
      }
      return;
    }
    const index = changed.slice();
    outRuns.push({ points, count: index.length, ts: run.ts, value: (i) => run.value(index[i]!) });
  }

  private stateOf(device: string): Map<string, SentState> {
    let m = this.states.get(device);
    if (m === undefined) this.states.set(device, (m = new Map()));
    return m;
  }
}
