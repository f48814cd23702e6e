import { describe, expect, it } from 'vitest';
import { corruptOutboxScenario, tornWalScenario } from './scenarios/damaged-outbox.js';

describe('torture (short): damaged outbox file at start', () => {
  it('a corrupt database is quarantined (kept byte for byte), a fresh one is used, and the event goes upstream', async () => {
    const f = await corruptOutboxScenario('short');
    expect(f.lost).toBe(0);
  }, 120_000);

  it('a WAL torn mid-frame recovers to the last intact commit, with nothing committed before the tear lost', async () => {
    const f = await tornWalScenario('short');
    expect(f.lost).toBe(0);
    expect(f.lostInTornTransaction as number).toBeGreaterThan(0);
  }, 120_000);
});
