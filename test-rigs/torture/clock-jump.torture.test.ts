import { describe, expect, it } from 'vitest';
import { clockJumpScenario } from './scenarios/clock-jump.js';

describe('torture (long): wall clock jumps a day forward and back (libfaketime)', () => {
  it('default retention (7 d): order holds, nothing stuck, drain completes, nothing lost', async () => {
    const f = await clockJumpScenario('long', { maxAge: '7d' });
    expect(f.lost).toBe(0);
  }, 300_000);

  it('retention maxAge shorter than the jump (1 h): the backlog survives the jump', async () => {
    const f = await clockJumpScenario('long', { maxAge: '1h' });
    expect(f.lost).toBe(0);
  }, 300_000);
});
