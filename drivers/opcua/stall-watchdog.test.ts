import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StallWatchdog, stallAfterMs } from './stall-watchdog.js';

describe('StallWatchdog', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('waits three keep-alive periods, at least 15 s', () => {
    expect(stallAfterMs(1000, 10)).toBe(30_000);
    expect(stallAfterMs(100, 5)).toBe(15_000);
  });

  it('calls onStall after the quiet limit while watching, never while a touch keeps it alive or it is not watching', () => {
    const stalls: number[] = [];
    let watching = true;
    const dog = new StallWatchdog(15_000, () => watching, (quiet) => stalls.push(quiet));
    dog.touch();
    dog.start();
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(5_000);
      dog.touch();
    }
    expect(stalls).toEqual([]);
    watching = false;
    vi.advanceTimersByTime(60_000);
    expect(stalls).toEqual([]);
    watching = true;
    vi.advanceTimersByTime(5_000);
    expect(stalls).toHaveLength(1);
    expect(stalls[0]).toBeGreaterThan(15_000);
    dog.stop();
    vi.advanceTimersByTime(60_000);
    expect(stalls).toHaveLength(1);
  });
});
