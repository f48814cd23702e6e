import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClockWatch } from './clock.js';
import { Outbox } from './outbox/outbox.js';
import { rowEncoder } from './payload/encode.js';

const log = pino({ level: 'silent' });
afterEach(() => vi.useRealTimers());

describe('clock watch', () => {
  it('reports a wall-clock step relative to the monotonic clock, and nothing otherwise', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const clock = new ClockWatch({ syncCheck: 'none', syncedFile: '/nonexistent', jumpThresholdMs: 5000, log });
    expect(clock.tick()).toBe(0);
    vi.setSystemTime(Date.now() + 86_400_000);
    expect(Math.abs(clock.tick() - 86_400_000)).toBeLessThan(1000);
    vi.setSystemTime(Date.now() - 86_400_000);
    expect(Math.abs(clock.tick() + 86_400_000)).toBeLessThan(1000);
    expect(clock.tick()).toBe(0);
  });

  it('is unsynchronised until timesyncd says otherwise', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clock-'));
    const flag = join(dir, 'synchronized');
    const clock = new ClockWatch({ syncCheck: 'timesyncd', syncedFile: flag, jumpThresholdMs: 5000, log });
    expect(clock.isSynced()).toBe(false);
    writeFileSync(flag, '');
    clock.tick();
    expect(clock.isSynced()).toBe(true);
    rmSync(dir, { recursive: true });
  });

  it('after a forward step, shifted ages keep age retention from dropping a fresh backlog', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clock-'));
    const ob = new Outbox({ path: join(dir, 'o.db'), durability: 'normal', encoder: rowEncoder(1), rowMaxReadings: 100, retention: { maxBytes: 1e9, maxAgeMs: 3600e3 } });
    ob.append('telemetry', [{ device: 'd', point: 'p', value: 1, quality: 'good', ts: 0 }], 1_000_000);
    const before = ob.stats().nextSeq;
    ob.shiftAges(86_400_000, before); // NTP stepped the clock a day forward
    ob.append('telemetry', [{ device: 'd', point: 'p', value: 2, quality: 'good', ts: 0 }], 1_000_000 + 86_400_000);
    expect(ob.enforceRetention(1_000_000 + 86_400_000 + 5000)).toEqual([]);
    expect(ob.stats().pendingReadings).toBe(2);
    ob.close();
    rmSync(dir, { recursive: true });
  });
});
