import { describe, expect, it } from 'vitest';
import { commandFuzzScenario } from './scenarios/command-fuzz.js';

describe('torture (short): hostile commands against the real daemon', () => {
  it('90 generated commands (mutated, undeclared, replayed, expired, deep, 16 KiB+, raw bytes): alive, one answer each, nothing undeclared written, polls running', async () => {
    const { figures: f, problems } = await commandFuzzScenario('short', process.env.TORTURE_SEED ? Number(process.env.TORTURE_SEED) : undefined);
    expect(problems, `seed ${f.seed} (TORTURE_SEED=${f.seed} replays it)`).toEqual([]);
    expect(f.messages).toBe(90);
    expect(f.withId).toBeGreaterThan(30);
    expect(f.peakRssMiB - f.baselineRssMiB).toBeLessThan(48);
    expect(f.pollsPerSDuring).toBeGreaterThan(0);
  }, 60_000);
});
