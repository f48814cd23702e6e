import { describe, expect, it } from 'vitest';
import { DETECT_BOUND_MS, networkFaultsScenario } from './scenarios/network-faults.js';

describe('torture (short): reset, black hole, stall and refuse between gateway and broker', () => {
  it('one round of every fault: dead links noticed within the keepalive bound, reconnects, nothing lost', async () => {
    const f = await networkFaultsScenario('short', 1);
    expect(f.lost).toBe(0);
    expect(f.detectMaxMs as number).toBeLessThanOrEqual(DETECT_BOUND_MS);
  }, 180_000);
});
