/**
 * A realistic signal-controller trace (issue #25 item 5): the 20 registers of one intersection
 * controller polled every 100 ms, with the mix seen in the field instead of "every register
 * changes every poll":
 *
 * - 8 cumulative vehicle counters, 0.05-0.4 vehicles/s per lane (uint16, wrapping);
 * - 4 lane occupancies in %, a new level every 2-8 s;
 * - a cabinet temperature in 0.1 Cel, +-1 about every 20 s;
 * - a mains voltage in 0.1 V around 230 V that jitters +-3 on every poll and wanders slowly
 *   (+-1 V about every 30 s): a 1 V deadband should hold back the jitter, not the wander;
 * - the signal phase (1-8), a step every 15-40 s; the controller mode, about hourly;
 * - 4 fault/door bits, rare (a door opened for a few minutes, a lamp fault now and then).
 *
 * Deterministic from the seed: the same seed gives the same words at every step, so a test can
 * compare what a subscriber rebuilt against the trace itself. Values are the raw register words
 * a controller would hold (the simulator writes them as they are; it never uses the driver's
 * encoder), and `points` says how a device file reads them.
 */
import { seededRandom } from '../torture/seeded-random.js';

export interface TracePoint {
  name: string;
  /** Input register address. */
  address: number;
  type: 'uint16' | 'int16';
  scale?: number;
  unit?: string;
  /** Report-by-exception deadband a device file would give it, in the scaled unit. */
  deadband: number;
}

export const POLL_MS = 100;

export const intersectionPoints: readonly TracePoint[] = [
  ...Array.from({ length: 8 }, (_, i): TracePoint => ({ name: `det${i + 1}.count`, address: i, type: 'uint16', unit: '{vehicles}', deadband: 0 })),
  ...Array.from({ length: 4 }, (_, i): TracePoint => ({ name: `lane${i + 1}.occupancy`, address: 8 + i, type: 'uint16', unit: '%', deadband: 0 })),
  { name: 'cabinet.temp', address: 12, type: 'int16', scale: 0.1, unit: 'Cel', deadband: 0 },
  { name: 'mains.voltage', address: 13, type: 'uint16', scale: 0.1, unit: 'V', deadband: 1 },
  { name: 'signal.phase', address: 14, type: 'uint16', deadband: 0 },
  { name: 'controller.mode', address: 15, type: 'uint16', deadband: 0 },
  ...Array.from({ length: 4 }, (_, i): TracePoint => ({ name: ['door.open', 'lamp.fault', 'detector.fault', 'comms.fault'][i]!, address: 16 + i, type: 'uint16', deadband: 0 })),
];

export interface Trace {
  readonly steps: number;
  readonly points: readonly TracePoint[];
  /** Raw register word of point `i` at `step` (0 <= step < steps); past the end the last step holds. */
  word(step: number, i: number): number;
  /** The value a driver reads from that word (sign and scale applied). */
  value(step: number, i: number): number;
}

/** Generates `steps` polls (100 ms apart) of one controller. */
export function intersectionTrace(seed: number, steps: number): Trace {
  const n = intersectionPoints.length;
  const words = new Uint16Array(steps * n);
  const rnd = seededRandom(seed);
  const between = (lo: number, hi: number) => lo + rnd() * (hi - lo);
  const stepsIn = (lo: number, hi: number) => Math.round((between(lo, hi) * 1000) / POLL_MS);
  const rates = Array.from({ length: 8 }, () => between(0.05, 0.4));
  const counts = Array.from({ length: 8 }, () => Math.floor(rnd() * 60000));
  const occ = Array.from({ length: 4 }, () => Math.floor(rnd() * 30));
  const occNext = Array.from({ length: 4 }, () => stepsIn(2, 8));
  let temp = 250 + Math.floor(rnd() * 100);
  let voltage = 2300;
  let phase = 1;
  let phaseNext = stepsIn(15, 40);
  let mode = 1;
  const bits = [0, 0, 0, 0];
  const bitUntil = [0, 0, 0, 0];
  for (let s = 0; s < steps; s++) {
    for (let i = 0; i < 8; i++) if (rnd() < rates[i]! * (POLL_MS / 1000)) counts[i] = (counts[i]! + 1) & 0xffff;
    for (let i = 0; i < 4; i++) {
      if (s >= occNext[i]!) {
        occ[i] = Math.max(0, Math.min(100, occ[i]! + Math.round(between(-15, 15))));
        occNext[i] = s + stepsIn(2, 8);
      }
    }
    if (rnd() < POLL_MS / 20_000) temp += rnd() < 0.5 ? -1 : 1;
    if (rnd() < POLL_MS / 30_000) voltage += rnd() < 0.5 ? -10 : 10;
    if (s >= phaseNext) {
      phase = (phase % 8) + 1;
      phaseNext = s + stepsIn(15, 40);
    }
    if (rnd() < POLL_MS / 3_600_000) mode = mode === 1 ? 2 : 1;
    for (let b = 0; b < 4; b++) {
      if (bits[b] === 1 && s >= bitUntil[b]!) bits[b] = 0;
      else if (bits[b] === 0 && rnd() < POLL_MS / 1_800_000) {
        bits[b] = 1;
        bitUntil[b] = s + stepsIn(30, 300);
      }
    }
    const row = s * n;
    for (let i = 0; i < 8; i++) words[row + i] = counts[i]!;
    for (let i = 0; i < 4; i++) words[row + 8 + i] = occ[i]!;
    words[row + 12] = temp & 0xffff;
    words[row + 13] = voltage + Math.round(between(-3, 3));
    words[row + 14] = phase;
    words[row + 15] = mode;
    for (let b = 0; b < 4; b++) words[row + 16 + b] = bits[b]!;
  }
  const word = (step: number, i: number) => words[Math.min(Math.max(step, 0), steps - 1) * n + i]!;
  return {
    steps,
    points: intersectionPoints,
    word,
    value(step, i) {
      const p = intersectionPoints[i]!;
      const w = word(step, i);
      const raw = p.type === 'int16' && w >= 0x8000 ? w - 0x10000 : w;
      return raw * (p.scale ?? 1);
    },
  };
}

/**
 * The trace as a simulator register source: at each step the unit's input registers from
 * `base` hold the trace's words, and `base + 20` the step number (low 16 bits), so a test can
 * tell which step a poll saw.
 */
export function traceSource(trace: Trace, base = 0): { apply(step: number, input: Uint16Array): void } {
  return {
    apply(step, input) {
      for (let i = 0; i < trace.points.length; i++) input[base + i] = trace.word(step, i);
      input[base + trace.points.length] = step & 0xffff;
    },
  };
}
