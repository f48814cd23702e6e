import { describe, expect, it } from 'vitest';
import { corruptOutboxScenario, tornWalScenario } from './scenarios/damaged-outbox.js';

describe('torture (long): damaged outbox file at start', () => {
  it('a corrupt database is quarantined (kept byte for byte), a fresh one is used, and the event goes upstream', async () => {
    expect((await corruptOutboxScenario('long')).lost).toBe(0);
  }, 300_000);

  it('a WAL torn mid-frame, three times over, recovers to the last intact commit each time', async () => {
    for (let i = 0; i < 3; i++) {
      const f = await tornWalScenario('long');
      expect(f.lost).toBe(0);
      expect(f.lostInTornTransaction as number).toBeGreaterThan(0);
    }
  }, 300_000);
});
