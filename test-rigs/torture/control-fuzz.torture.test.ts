import { describe, expect, it } from 'vitest';
import { controlFuzzScenario } from './scenarios/control-fuzz.js';

describe('torture (long): fuzzing the control socket of the real daemon', () => {
  it('400 generated cases with bursts of up to 400 connections and 4 MiB lines', async () => {
    const f = await controlFuzzScenario('long');
    expect(f.cases).toBe(400);
    // ~50,000 connections and ~500 MB of garbage: V8 and malloc keep some of the churn (measured
    // plateau ~+60-70 MiB), but state does not grow: no rise over the second half of the run.
    expect(f.peakRssMiB - f.baselineRssMiB).toBeLessThan(96);
    const [, half, ...rest] = f.rssByQuarterMiB;
    expect(Math.max(...rest) - half!).toBeLessThan(32);
  }, 900_000);
});
