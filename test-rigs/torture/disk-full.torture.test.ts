import { describe, expect, it } from 'vitest';
import { diskFullScenario } from './scenarios/disk-full.js';

describe('torture (long): outbox full while the broker is down', () => {
  it('page cap: refuses and counts, keeps what it stored, commits again after 20 s full', async () => {
    const f = await diskFullScenario('long', 'page-cap', { fullForMs: 20_000 });
    expect(f.lost).toBe(0);
    expect(f.refused as number).toBeGreaterThan(0);
  }, 600_000);

  it('real ENOSPC on a 3 MB tmpfs: refuses and counts, keeps what it stored, recovers when space returns', async () => {
    const f = await diskFullScenario('long', 'tmpfs', { fullForMs: 10_000 });
    expect(f.lost).toBe(0);
    expect(f.refused as number).toBeGreaterThan(0);
  }, 600_000);

  it('real ENOSPC, and the space never returns: the drain itself makes room and commits resume', async () => {
    const f = await diskFullScenario('long', 'tmpfs', { fullForMs: 10_000, spaceReturns: false });
    expect(f.lost).toBe(0);
    expect(f.refused as number).toBeGreaterThan(0);
  }, 600_000);
});
