import { describe, expect, it } from 'vitest';
import { checkHeldSeries, stepAt } from './trace-check.js';

// A device stepping every 100 ms from t=1000; a poll 30 ms into each step.
const stepTimes = Array.from({ length: 100 }, (_, s) => 1000 + s * 100);
// A counter that moves at steps 20, 50 and 51; a voltage jittering +-0.3 around 230, wandering +1 at step 60.
const counter = (s: number) => 10 + (s >= 20 ? 1 : 0) + (s >= 50 ? 1 : 0) + (s >= 51 ? 1 : 0);
const voltage = (s: number) => (s >= 60 ? 231 : 230) + [0, 0.3, -0.3, 0.2][s % 4]!;

/** What a correct report-by-exception filter sends: a poll's value when it moved beyond the deadband since the last one sent. */
function reportByException(truth: (s: number) => number, deadband: number) {
  const sent: { seq: number; ts: number; value: number }[] = [];
  let last: number | undefined;
  for (let s = 0; s < stepTimes.length; s++) {
    const v = truth(s);
    if (last === undefined || Math.abs(v - last) > deadband) {
      sent.push({ seq: s, ts: stepTimes[s]! + 30, value: v });
      last = v;
    }
  }
  return sent;
}

const base = { stepTimes, from: 1500, to: 10_500, lagMs: 300, slackMs: 50, lateMs: 1000 };

describe('checkHeldSeries', () => {
  it('finds the step visible at a time', () => {
    expect(stepAt(stepTimes, 999)).toBe(-1);
    expect(stepAt(stepTimes, 1000)).toBe(0);
    expect(stepAt(stepTimes, 1250)).toBe(2);
    expect(stepAt(stepTimes, 1e9)).toBe(99);
  });

  it('passes a series sent on change and judges every step in the window', () => {
    const c = checkHeldSeries({ ...base, truth: counter, deadband: 0, sent: reportByException(counter, 0) });
    expect(c).toEqual({ checked: 90, lost: 0, late: 0, wrong: 0, examples: [] });
  });

  it('passes jitter held back by the deadband, and the wander sent', () => {
    const sent = reportByException(voltage, 1);
    expect(sent.length).toBeLessThan(5);
    expect(checkHeldSeries({ ...base, truth: voltage, deadband: 1, sent })).toMatchObject({ lost: 0, late: 0, wrong: 0 });
  });

  it('counts a change the gateway dropped, for as long as it stays lost', () => {
    const sent = reportByException(counter, 0).filter((r) => r.seq !== 20);
    const c = checkHeldSeries({ ...base, truth: counter, deadband: 0, sent });
    // Steps 20..49 held 10 instead of 11; the first 3 are inside the 300 ms lag.
    expect(c.lost).toBe(27);
    expect(c.late).toBe(0);
    expect(c.wrong).toBe(0);
    expect(c.examples[0]).toContain('held 10, the device 11');
  });

  it('counts a value the device never held', () => {
    const sent = reportByException(counter, 0).map((r) => (r.seq === 50 ? { ...r, value: 99 } : r));
    const c = checkHeldSeries({ ...base, truth: counter, deadband: 0, sent });
    expect(c.wrong).toBe(1);
    // Held for one step only: the next poll set it right.
    expect(c.late).toBe(1);
  });

  it('counts a change from a late poll as late, not lost', () => {
    // The poll that saw step 20 ran 700 ms late (a loaded machine): its reading carries the late time.
    const sent = reportByException(counter, 0).map((r) => (r.seq === 20 ? { ...r, ts: r.ts + 700 } : r));
    const c = checkHeldSeries({ ...base, truth: counter, deadband: 0, sent });
    expect(c).toMatchObject({ lost: 0, wrong: 0 });
    expect(c.late).toBe(4);
  });

  it('counts instants where nothing was held yet', () => {
    const c = checkHeldSeries({ ...base, truth: counter, deadband: 0, sent: [] });
    expect(c.lost).toBe(c.checked);
  });
});
