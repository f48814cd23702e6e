import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { DeviceStatus, Driver, DriverContext } from '../drivers/driver.js';
import type { DeviceConfig, DriverModule } from '../drivers/registry.js';
import { DeviceSet } from './devices.js';
import type { DriverReading } from '../drivers/reading.js';

/** One failing driver must never take the others down (and must show up in status). */
function fakeModule(type: string, behaviour: 'emits' | 'throws-on-start' | 'throws-on-status'): DriverModule {
  return {
    type,
    schema: z.object({}),
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
});
