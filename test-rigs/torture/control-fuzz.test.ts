import { describe, expect, it } from 'vitest';
import { controlFuzzScenario } from './scenarios/control-fuzz.js';

describe('torture (short): fuzzing the control socket of the real daemon', () => {
  it('arbitrary bytes, JSON, partial and huge lines, bursts over the cap: daemon alive, status answers, RSS bounded', async () => {
    const f = await controlFuzzScenario('short');
    expect(f.cases).toBe(25);
    expect(f.connections).toBeGreaterThan(25);
    // 32 connections at most, 4 KiB of request each: the growth is buffers and garbage, not state.
    expect(f.peakRssMiB - f.baselineRssMiB).toBeLessThan(64);
  }, 180_000);
});
