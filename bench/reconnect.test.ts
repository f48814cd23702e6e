import { describe, expect, it } from 'vitest';
import { outageSchedule } from './reconnect.js';

describe('outageSchedule', () => {
  it('spreads outages evenly over the range and alternates short and long', () => {
    expect(outageSchedule(6, 5, 20)).toEqual([5, 20, 8, 17, 11, 14]);
    const full = outageSchedule(20, 5, 60);
    expect(full).toHaveLength(20);
    expect(Math.min(...full)).toBe(5);
    expect(Math.max(...full)).toBe(60);
    expect(new Set(full).size).toBe(20);
    expect(outageSchedule(1, 5, 60)).toEqual([5]);
    expect(outageSchedule(3, 5, 60)).toEqual([5, 60, 32.5]);
  });
});
