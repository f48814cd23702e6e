import type { Quality, ReadingValue } from '../model/reading.js';
import type { PointRule } from './rules.js';

/**
 * What the consumer was last sent for one point: the value it holds, and when. `value`
 * undefined means it holds nothing usable (never sent, or the last reading was bad), so the next
 * good reading must go out whatever its value.
 */
export interface SentState {
  value: ReadingValue | undefined;
  ts: number;
}

export type Decision = 'change' | 'heartbeat' | 'hold';

/**
 * The one report-by-exception rule. A bad or uncertain reading, and a value that is not a finite
 * number, boolean or string, is always sent. A number is sent when it moved by more than the
 * tolerance (the larger of the absolute deadband and the fraction of the last value sent), so
 * the value a consumer holds is never further than the tolerance from the device's. Anything
 * else changes when it is not equal. An unchanged value is sent again as a heartbeat once
 * `heartbeatMs` of reading time has passed since the last one sent (or the clock went back).
 */
export function decide(rule: PointRule, last: SentState | undefined, value: ReadingValue, quality: Quality, ts: number): Decision {
  // A reading without a usable time is sent (the group commit gives it the gateway's time and
  // quality uncertain): held, it could not be placed in the series, and it must not start a heartbeat.
  if (quality !== 'good' || value === null || (typeof value === 'number' && !Number.isFinite(value)) || !Number.isFinite(ts)) return 'change';
  if (last === undefined || last.value === undefined || last.value === null) return 'change';
  const held = last.value;
  if (typeof value === 'number' && typeof held === 'number') {
    const tolerance = Math.max(rule.deadband, Math.abs(held) * rule.deadbandFraction);
    if (Math.abs(value - held) > tolerance) return 'change';
  } else if (value !== held) {
    return 'change';
  }
  return ts - last.ts >= rule.heartbeatMs || ts < last.ts ? 'heartbeat' : 'hold';
}

/** The state after a reading was sent: what the consumer now holds. */
export function sentState(value: ReadingValue, quality: Quality, ts: number): SentState {
  const usable = quality === 'good' && value !== null && (typeof value !== 'number' || Number.isFinite(value)) && Number.isFinite(ts);
  return { value: usable ? value : undefined, ts };
}
