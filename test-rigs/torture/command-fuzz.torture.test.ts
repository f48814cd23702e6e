import { describe, expect, it } from 'vitest';
import { commandFuzzScenario } from './scenarios/command-fuzz.js';

describe('torture (long): hostile commands against the real daemon', () => {
  it('3000 generated commands over ~4 minutes: alive, one answer each, nothing undeclared written, RSS bounded, polls at rate', async () => {
    const { figures: f, problems } = await commandFuzzScenario('long', process.env.TORTURE_SEED ? Number(process.env.TORTURE_SEED) : undefined);
    expect(problems, `seed ${f.seed} (TORTURE_SEED=${f.seed} replays it)`).toEqual([]);
    expect(f.messages).toBe(3000);
    expect(f.executed).toBeGreaterThan(100);
    // The journal grows by a row per command; RSS must not grow with it.
    expect(f.peakRssMiB - f.baselineRssMiB).toBeLessThan(48);
    // The device polls every 100 ms; commands take bus turns but must not starve polls.
    expect(f.pollsPerSDuring).toBeGreaterThan(0.8 * f.pollsPerSBefore);
  }, 900_000);
});
