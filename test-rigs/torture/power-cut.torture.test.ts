import { describe, expect, it } from 'vitest';
import { powerCutScenario } from './scenarios/power-cut.js';

describe('torture (long): power cuts on power-cut-fs', () => {
  it('normal: 100 cuts, no reused seq, the outbox keeps its id, every loss declared', async () => {
    const f = await powerCutScenario('long', 'normal', 100);
    expect(f.lost).toBe(0);
    expect(f.readings).toBeGreaterThan(10_000);
  }, 900_000);

  it('strict: 100 cuts, no reused seq, nothing lost and nothing to declare', async () => {
    const f = await powerCutScenario('long', 'strict', 100);
    expect(f.lost).toBe(0);
    expect(f.declaredDropped).toBe(0);
    expect(f.readings).toBeGreaterThan(10_000);
  }, 900_000);
});
