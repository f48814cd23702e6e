import { describe, expect, it } from 'vitest';
import { retryDelayMs } from './backoff.js';

const RECONNECT = { startingDelay: 200, maxDelay: 30_000 };

describe('retryDelayMs', () => {
  it('multiplies from startingDelay, caps at maxDelay, and jitters within +-20 %', () => {
    const mid = () => 0.5;
    expect([0, 1, 2, 3].map((a) => retryDelayMs(a, RECONNECT, mid))).toEqual([200, 400, 800, 1600]);
    expect(retryDelayMs(3, RECONNECT, () => 0)).toBe(1280);
    expect(retryDelayMs(3, RECONNECT, () => 1)).toBe(1920);
    expect(retryDelayMs(50, RECONNECT, () => 1)).toBe(30_000);
    expect(retryDelayMs(1e9, RECONNECT, () => 0)).toBe(24_000);
    expect(retryDelayMs(2, { ...RECONNECT, timeMultiple: 3 }, mid)).toBe(1800);
  });
});
