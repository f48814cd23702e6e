import { expect, it } from 'vitest';
import { describeWithFuse } from '../system/root.js';
import { powerCutScenario } from './scenarios/power-cut.js';

describeWithFuse('torture (short): power cuts on power-cut-fs', () => {
  it('normal: 10 cuts, no reused seq, the outbox keeps its id, every loss declared', async () => {
    const f = await powerCutScenario('short', 'normal', 10);
    expect(f.lost).toBe(0);
    expect(f.readings).toBeGreaterThan(1000);
  }, 180_000);

  it('strict: 10 cuts, no reused seq, nothing lost and nothing to declare', async () => {
    const f = await powerCutScenario('short', 'strict', 10);
    expect(f.lost).toBe(0);
    expect(f.declaredDropped).toBe(0);
    expect(f.readings).toBeGreaterThan(1000);
  }, 180_000);
});
