import { describe, expect, it } from 'vitest';
import { PollSchedule } from './poll-schedule.js';

describe('PollSchedule', () => {
  it('keeps a fixed rate: a short poll waits out the rest of the interval', () => {
    const s = new PollSchedule(1000, 0);
    expect(s.afterPoll(200)).toEqual({ waitMs: 800, skipped: 0 });
    expect(s.afterPoll(1100)).toEqual({ waitMs: 900, skipped: 0 });
  });

  it('skips the ticks an overrunning poll missed instead of queueing them', () => {
    const s = new PollSchedule(1000, 0);
    expect(s.afterPoll(3500)).toEqual({ waitMs: 500, skipped: 3 });
    expect(s.afterPoll(4000)).toEqual({ waitMs: 1000, skipped: 0 });
  });

  it('restarts the tick count, e.g. after a reconnect', () => {
    const s = new PollSchedule(1000, 0);
    s.restart(10_250);
    expect(s.afterPoll(10_300)).toEqual({ waitMs: 950, skipped: 0 });
  });
});
