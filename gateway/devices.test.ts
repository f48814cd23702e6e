import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { DeviceStatus, Driver, DriverContext } from '../drivers/driver.js';
import type { DeviceConfig, DriverModule } from '../drivers/registry.js';
import { DeviceSet } from './devices.js';
import type { DriverReading } from './model/reading.js';
import { Secret } from '../drivers/kit/secret.js';

/** One failing driver must never take the others down (and must show up in status). */
function fakeModule(type: string, behaviour: 'emits' | 'throws-on-start' | 'throws-on-status'): DriverModule {
  return {
    type,
    schema: z.object({}),
    opens: () => [],
    pointNames: () => [],
    load: async () => (_config: unknown, ctx: DriverContext): Driver => {
      let timer: NodeJS.Timeout | undefined;
      return {
        async start() {
          if (behaviour === 'throws-on-start') throw Object.assign(new Error('port exploded'), { code: 'EBOOM' });
          timer = setInterval(() => ctx.emit([{ point: 'p', value: 1, quality: 'good', ts: Date.now() }]), 10);
        },
        async stop() {
          clearInterval(timer);
        },
        status(): DeviceStatus {
          if (behaviour === 'throws-on-status') throw new Error('status broke');
          return { state: 'ok', lastGoodTs: Date.now(), lastError: null, counters: {} };
        },
      };
    },
  };
}

const device = (id: string, type: string) => ({ id, type, enabled: true }) as unknown as DeviceConfig;

describe('device set', () => {
  it('isolates a driver that throws while starting or reporting status; the others keep emitting', async () => {
    const modules = [fakeModule('good', 'emits'), fakeModule('bad-start', 'throws-on-start'), fakeModule('bad-status', 'throws-on-status')];
    const emitted: string[] = [];
    const set = new DeviceSet({
      log: pino({ level: 'silent' }),
      emit: (d: string, r: readonly DriverReading[]) => emitted.push(...r.map(() => d)),
      moduleFor: (t) => modules.find((m) => m.type === t),
    });
    await set.apply([device('a', 'good'), device('b', 'bad-start'), device('c', 'bad-status'), device('d', 'no-such-type')]);
    await new Promise((r) => setTimeout(r, 60));
    expect(emitted).toContain('a');
    const st = set.statuses();
    expect(st.a!.state).toBe('ok');
    expect(st.b).toMatchObject({ state: 'down', lastError: { code: 'EBOOM', message: 'port exploded' } });
    expect(st.c).toMatchObject({ state: 'down', lastError: { code: 'STATUS_FAILED' } });
    expect(st.d).toMatchObject({ state: 'down', lastError: { code: 'NO_DRIVER' } });
    await set.stopAll();
    const count = emitted.length;
    await new Promise((r) => setTimeout(r, 40));
    expect(emitted.length).toBe(count); // nothing after stop
  });

  it('restarts a device on reload when only its password changed, not when it is the same', async () => {
    const set = new DeviceSet({ log: pino({ level: 'silent' }), emit: () => {}, moduleFor: () => fakeModule('good', 'emits') });
    // A Secret prints as [redacted]: the reload must still tell a rotated password from the old one.
    const withPassword = (pw: string) => ({ ...device('cam', 'good'), password: new Secret(pw) }) as unknown as DeviceConfig;
    await set.apply([withPassword('old-pass')]);
    expect((await set.apply([withPassword('old-pass')])).unchanged).toEqual(['cam']);
    expect((await set.apply([withPassword('new-pass')])).restarted).toEqual(['cam']);
    await set.stopAll();
  });

  it('keeps a device running when only its report: block changed (the core applies it, not the driver)', async () => {
    const set = new DeviceSet({ log: pino({ level: 'silent' }), emit: () => {}, moduleFor: () => fakeModule('good', 'emits') });
    const withReport = (deadband: number) => ({ ...device('plc', 'good'), report: { deadband } }) as unknown as DeviceConfig;
    await set.apply([withReport(1)]);
    expect((await set.apply([withReport(2)])).unchanged).toEqual(['plc']);
    await set.stopAll();
  });
});

/** A driver stuck in start() or stop(), still emitting from a timer it started before hanging. */
function hungModule(type: string, hangs: 'start' | 'stop', emitting: { timers: NodeJS.Timeout[] }): DriverModule {
  return {
    type,
    schema: z.object({}),
    opens: () => [],
    pointNames: () => [],
    load: async () => (_config: unknown, ctx: DriverContext): Driver => ({
      start() {
        emitting.timers.push(setInterval(() => ctx.emit([{ point: 'p', value: 1, quality: 'good', ts: Date.now() }]), 5));
        return hangs === 'start' ? new Promise<void>(() => undefined) : Promise.resolve();
      },
      stop() {
        return hangs === 'stop' ? new Promise<void>(() => undefined) : Promise.resolve();
      },
      status: (): DeviceStatus => ({ state: 'ok', lastGoodTs: Date.now(), lastError: null, counters: {} }),
    }),
  };
}

describe('device set with a hung driver', () => {
  const emitting = { timers: [] as NodeJS.Timeout[] };
  const logged: { msg: string; device?: string; code?: string }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line) as { msg: string }) });
  const modules = [fakeModule('good', 'emits'), hungModule('hangs-start', 'start', emitting), hungModule('hangs-stop', 'stop', emitting)];

  it('marks a driver whose start() never settles down (DRIVER_START_TIMEOUT), drops its late emits, and does not block the others', async () => {
    const emitted: string[] = [];
    const set = new DeviceSet({
      log,
      emit: (d, r) => emitted.push(...r.map(() => d)),
      moduleFor: (t) => modules.find((m) => m.type === t),
      startTimeoutMs: 200,
      stopTimeoutMs: 200,
    });
    // Without a timeout this await never returns: READY=1 would never be sent.
    await set.apply([device('a', 'good'), device('stuck', 'hangs-start')]);
    const st = set.statuses();
    expect(st.stuck).toMatchObject({ state: 'down', lastError: { code: 'DRIVER_START_TIMEOUT' } });
    expect(st.stuck!.lastError!.message).toContain('200 ms');
    expect(logged.some((l) => l.device === 'stuck' && l.code === 'DRIVER_START_TIMEOUT')).toBe(true);
    // What it emitted while it was still starting was kept; nothing after it was abandoned.
    const stuckBefore = emitted.filter((d) => d === 'stuck').length;
    await new Promise((r) => setTimeout(r, 60));
    expect(emitted).toContain('a');
    expect(emitted.filter((d) => d === 'stuck').length).toBe(stuckBefore);
    expect(set.droppedLateReadings).toBeGreaterThan(0);
    expect(set.statuses().stuck!.counters.lateReadingsDropped).toBeGreaterThan(0);
    // Reload (a changed config) and stop are not held up by the stuck instance either.
    await set.apply([device('a', 'good'), { ...device('stuck', 'hangs-start'), note: 'changed' } as unknown as DeviceConfig]);
    await set.stopAll();
    for (const t of emitting.timers) clearInterval(t);
  });

  it('abandons a driver whose stop() never settles (DRIVER_STOP_TIMEOUT) so reload and shutdown go on', async () => {
    const emitted: string[] = [];
    const set = new DeviceSet({
      log,
      emit: (d, r) => emitted.push(...r.map(() => d)),
      moduleFor: (t) => modules.find((m) => m.type === t),
      startTimeoutMs: 200,
      stopTimeoutMs: 200,
    });
    await set.apply([device('a', 'good'), device('sticky', 'hangs-stop')]);
    await new Promise((r) => setTimeout(r, 30));
    expect(emitted).toContain('sticky');
    // Removing the device from the config: its stop() hangs, the reload must still finish.
    const result = await set.apply([device('a', 'good')]);
    expect(result.stopped).toEqual(['sticky']);
    expect(logged.some((l) => l.device === 'sticky' && l.code === 'DRIVER_STOP_TIMEOUT')).toBe(true);
    const count = emitted.filter((d) => d === 'sticky').length;
    await new Promise((r) => setTimeout(r, 40));
    expect(emitted.filter((d) => d === 'sticky').length).toBe(count);
    expect(set.droppedLateReadings).toBeGreaterThan(0);
    await set.apply([device('a', 'good'), device('sticky2', 'hangs-stop')]);
    await set.stopAll();
    for (const t of emitting.timers) clearInterval(t);
  });
});
