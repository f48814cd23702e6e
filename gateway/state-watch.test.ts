import { describe, expect, it } from 'vitest';
import type { DeviceStatus } from '../drivers/driver.js';
import type { DriverReading } from './model/reading.js';
import { StateWatch } from './state-watch.js';

type S = DeviceStatus & { type: string };
const status = (type: string, state: DeviceStatus['state'], code?: string): S => ({
  type,
  state,
  lastGoodTs: null,
  lastError: code ? { code, message: `${code} on /dev/ttyUSB0`, ts: 1 } : null,
  counters: {},
});

describe('state watch: state events for families that do not send their own', () => {
  it('reports each change of a watched device once, with previous state and reason, and never starting or stopped', () => {
    let now: Record<string, S> = { scanner: status('barcode-serial', 'starting'), plc: status('modbus-tcp', 'ok') };
    const sent: Array<[string, DriverReading]> = [];
    const watch = new StateWatch({
      statuses: () => now,
      reportsItself: (type) => type === 'modbus-tcp',
      emit: (device, readings) => readings.forEach((r) => sent.push([device, r])),
      now: () => 42,
    });
    watch.check();
    expect(sent).toEqual([]);
    now = { ...now, scanner: status('barcode-serial', 'ok'), plc: status('modbus-tcp', 'down', 'ETIMEDOUT') };
    watch.check();
    watch.check();
    now = { ...now, scanner: status('barcode-serial', 'down', 'SERIAL_NOT_FOUND') };
    watch.check();
    now = { ...now, scanner: status('barcode-serial', 'stopped') };
    watch.check();
    expect(sent).toEqual([
      ['scanner', { point: 'state', value: 'ok', quality: 'good', ts: 42, kind: 'event', attrs: { previous: 'starting', reason: 'ok' } }],
      ['scanner', { point: 'state', value: 'down', quality: 'good', ts: 42, kind: 'event', attrs: { previous: 'ok', reason: 'SERIAL_NOT_FOUND', message: 'SERIAL_NOT_FOUND on /dev/ttyUSB0' } }],
    ]);
  });

  it('forgets a device removed by a reload, so a new one of that name starts from starting', () => {
    let now: Record<string, S> = { door: status('gpio', 'ok') };
    const values: unknown[] = [];
    const watch = new StateWatch({ statuses: () => now, reportsItself: () => false, emit: (_d, rs) => rs.forEach((r) => values.push([r.value, r.attrs?.previous])) });
    watch.check();
    now = {};
    watch.check();
    now = { door: status('gpio', 'degraded', 'GPIO_BUSY') };
    watch.check();
    expect(values).toEqual([['ok', 'starting'], ['degraded', 'starting']]);
  });
});
