import { describe, expect, it } from 'vitest';
import { intersectionPoints, intersectionTrace, POLL_MS } from './intersection.js';

const STEPS = 36_000; // one hour of 100 ms polls
const index = (name: string) => intersectionPoints.findIndex((p) => p.name === name);

function changes(trace: ReturnType<typeof intersectionTrace>, i: number): number {
  let n = 0;
  for (let s = 1; s < trace.steps; s++) if (trace.word(s, i) !== trace.word(s - 1, i)) n++;
  return n;
}

describe('intersection trace', () => {
  const trace = intersectionTrace(7, STEPS);

  it('is the same for a seed and differs between seeds', () => {
    const again = intersectionTrace(7, STEPS);
    const other = intersectionTrace(8, STEPS);
    let same = true;
    let differs = false;
    for (let s = 0; s < STEPS; s += 97) {
      for (let i = 0; i < intersectionPoints.length; i++) {
        same &&= again.word(s, i) === trace.word(s, i);
        differs ||= other.word(s, i) !== trace.word(s, i);
      }
    }
    expect([same, differs]).toEqual([true, true]);
  });

  it('has the issue #25 mix: 20 registers, counters at 0.05-0.4 vehicles/s, voltage jitter on every poll, slow phase and mode', () => {
    expect(intersectionPoints).toHaveLength(20);
    const hours = (STEPS * POLL_MS) / 3_600_000;
    for (let d = 0; d < 8; d++) {
      const perSecond = changes(trace, d) / (STEPS * POLL_MS / 1000);
      expect(perSecond).toBeGreaterThan(0.03);
      expect(perSecond).toBeLessThan(0.45);
    }
    // Jitter: the voltage word changes on most polls, but stays within +-3 of a slow wander.
    expect(changes(trace, index('mains.voltage'))).toBeGreaterThan(STEPS * 0.7);
    const phaseSteps = changes(trace, index('signal.phase'));
    expect(phaseSteps).toBeGreaterThanOrEqual(3600 / 40 - 5);
    expect(phaseSteps).toBeLessThanOrEqual(3600 / 15 + 5);
    const tempSteps = changes(trace, index('cabinet.temp'));
    expect(tempSteps).toBeGreaterThan(100);
    expect(tempSteps).toBeLessThan(300);
    expect(changes(trace, index('controller.mode'))).toBeLessThan(10 * hours);
    for (const b of ['door.open', 'lamp.fault', 'detector.fault', 'comms.fault']) expect(changes(trace, index(b))).toBeLessThan(20);
  });

  it('holds the last step past its end', () => {
    expect(trace.word(STEPS + 5, 0)).toBe(trace.word(STEPS - 1, 0));
  });
});
