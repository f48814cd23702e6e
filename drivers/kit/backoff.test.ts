import { describe, expect, it } from 'vitest';
import { retryDelayMs } from './backoff.js';

const RECONNECT = { startingDelay: 200, maxDelay: 30_000 };

describe('retryDelayMs', () => {
  it('doubles from min, caps at max, and jitters within [d/2, d]', () => {
    expect([0, 1, 2, 3].map((a) => retryDelayMs(a, RECONNECT, () => 1))).toEqual([200, 400, 800, 1600]);
    expect(retryDelayMs(3, RECONNECT, () => 0)).toBe(800);
    expect(retryDelayMs(50, RECONNECT, () => 1)).toBe(30_000);
    expect(retryDelayMs(1e9, RECONNECT, () => 0.5)).toBe(22_500);
  });
});
