import { describe, expect, it } from 'vitest';
import { diskFullScenario } from './scenarios/disk-full.js';

describe('torture (short): outbox full while the broker is down (SQLite page cap)', () => {
  it('refuses and counts new readings, keeps what it stored, and commits again after the drain', async () => {
    const f = await diskFullScenario('short', 'page-cap', { fullForMs: 2_000 });
    expect(f.lost).toBe(0);
    expect(f.refused as number).toBeGreaterThan(0);
  }, 180_000);
});
