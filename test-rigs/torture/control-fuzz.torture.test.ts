import { describe, expect, it } from 'vitest';
import { controlFuzzScenario } from './scenarios/control-fuzz.js';

describe('torture (long): fuzzing the control socket of the real daemon', () => {
  it('400 generated cases with bursts of up to 400 connections and 4 MiB lines', async () => {
    const f = await controlFuzzScenario('long');
    expect(f.cases).toBe(400);
    expect(f.peakRssMiB - f.baselineRssMiB).toBeLessThan(64);
    expect(f.finalRssMiB - f.baselineRssMiB).toBeLessThan(32);
  }, 900_000);
});
