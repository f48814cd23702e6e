import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { DriverReading } from '../../gateway/model/reading.js';
import { DeviceStateLog } from './device-state-log.js';

describe('DeviceStateLog', () => {
  it('sends a state event on each change, with the previous state and the reason code, and nothing while the state holds', () => {
    const emitted: DriverReading[] = [];
    const log = new DeviceStateLog({ log: pino({ level: 'silent' }), emit: (r) => emitted.push(...r) }, 'modbus device', { host: 'plc' }, { now: () => 42 });
    log.set('ok');
    log.set('ok');
    const timeout = { code: 'ETIMEDOUT', message: 'no answer within 500 ms' };
    log.set('down', timeout);
    log.set('down', timeout);
    log.set('degraded', { code: 'MODBUS_EXCEPTION_2', message: 'illegal data address' });
    log.set('ok');
    log.set('stopped');
    expect(emitted).toEqual([
      { point: 'state', value: 'ok', quality: 'good', ts: 42, kind: 'event', attrs: { previous: 'starting', reason: 'ok' } },
      { point: 'state', value: 'down', quality: 'good', ts: 42, kind: 'event', attrs: { previous: 'ok', reason: 'ETIMEDOUT', message: 'no answer within 500 ms' } },
      { point: 'state', value: 'degraded', quality: 'good', ts: 42, kind: 'event', attrs: { previous: 'down', reason: 'MODBUS_EXCEPTION_2', message: 'illegal data address' } },
      { point: 'state', value: 'ok', quality: 'good', ts: 42, kind: 'event', attrs: { previous: 'degraded', reason: 'ok' } },
    ]);
  });

  it('names a down without an error NO_ANSWER', () => {
    const emitted: DriverReading[] = [];
    new DeviceStateLog({ log: pino({ level: 'silent' }), emit: (r) => emitted.push(...r) }, 'd', {}).set('down');
    expect(emitted[0]!.attrs).toEqual({ previous: 'starting', reason: 'NO_ANSWER' });
  });
});
