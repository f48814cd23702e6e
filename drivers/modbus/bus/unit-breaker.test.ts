import { describe, expect, it } from 'vitest';
import { UnitBreaker } from './unit-breaker.js';

const noJitter = () => 0.5; // retryDelayMs jitter factor 0.8 + 0.4 * 0.5 = 1

describe('UnitBreaker', () => {
  it('opens after N consecutive timeouts, probes after a doubling backoff, closes on a reply', () => {
    const b = new UnitBreaker({ threshold: 3, minBackoffMs: 1000, maxBackoffMs: 4000, random: noJitter });
    expect(b.timedOut(0)).toBe(false);
    expect(b.timedOut(0)).toBe(false);
    expect(b.admit(0)).toBe('send');
    expect(b.timedOut(0)).toBe(true);
    expect(b.state).toBe('open');
    expect(b.admit(999)).toBe('skip');
    expect(b.admit(1000)).toBe('probe');
    expect(b.state).toBe('half-open');
    expect(b.admit(1000)).toBe('skip'); // one probe at a time
    expect(b.timedOut(1100)).toBe(true);
    expect(b.nextProbeAt).toBe(3100); // 2 s after the failed probe
    expect(b.admit(3100)).toBe('probe');
    b.timedOut(3200);
    expect(b.nextProbeAt).toBe(7200); // capped at 4 s
    expect(b.admit(7200)).toBe('probe');
    b.timedOut(7300);
    expect(b.nextProbeAt).toBe(11_300);
    expect(b.opens).toBe(4);
    expect(b.admit(11_300)).toBe('probe');
    expect(b.answered()).toBe(true);
    expect(b.state).toBe('closed');
    expect(b.nextProbeAt).toBeNull();
  });

  it('a reply in between resets the count: only consecutive timeouts trip it', () => {
    const b = new UnitBreaker({ threshold: 2, minBackoffMs: 10, maxBackoffMs: 10, random: noJitter });
    for (let i = 0; i < 10; i++) {
      expect(b.timedOut(i)).toBe(false);
      expect(b.answered()).toBe(false);
    }
    expect(b.state).toBe('closed');
  });

  it('an inconclusive probe (port lost mid-probe) is retried at the next chance, not stuck half-open', () => {
    const b = new UnitBreaker({ threshold: 1, minBackoffMs: 500, maxBackoffMs: 500, random: noJitter });
    b.timedOut(0);
    expect(b.admit(500)).toBe('probe');
    b.probeInconclusive(600);
    expect(b.state).toBe('open');
    expect(b.admit(600)).toBe('probe');
  });
});
