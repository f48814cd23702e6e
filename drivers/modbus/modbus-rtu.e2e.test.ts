import { afterEach, describe, expect, it } from 'vitest';
import { startBroker } from '../../test-rigs/broker/broker.js';
import { writeConfigDir } from '../../test-rigs/harness/config-dir.js';
import { startGatewayUnderTest } from '../../test-rigs/harness/gateway-under-test.js';
import { startRtuRig } from '../../test-rigs/modbus-rtu-sim/rig.js';

/**
 * Modbus RTU through the whole data path: two units on one simulated RS-485 bus (a real pty) ->
 * real daemon (dist/, built by `npm test`) with one device file per unit sharing the port ->
 * SQLite outbox -> real broker -> reference subscriber. One unit falls silent and comes back;
 * the other must not notice.
 */
const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('modbus-rtu end to end', () => {
  it('two units on one port reach the subscriber; a silent unit arrives as one bad reading per point and recovers', async () => {
    const broker = await startBroker();
    cleanups.push(() => broker.dispose());
    const rig = await startRtuRig({ units: [4, 9] });
    cleanups.push(() => rig.close());
    rig.sim.unit(4).setRegisters('holding', 100, [0x41ac, 0x0000]); // 21.5 as float32 ABCD
    rig.sim.unit(9).setRegisters('input', 0, [0xffd8]); // -40 as int16
    rig.sim.unit(9).setBits('discrete', 2, [true]);

    const port = { path: rig.path, baudRate: 19200, parity: 'even' };
    const common = { port, intervalMs: 100, timeoutMs: 150, breaker: { minBackoffMs: 200, maxBackoffMs: 500 } };
    const config = writeConfigDir({
      brokerUrls: [broker.url],
      devices: {
        'cabinet-meter': {
          type: 'modbus-rtu',
          ...common,
          unitId: 4,
          registers: [{ name: 'temperature', address: 100, type: 'float32', unit: 'Cel' }],
        },
        'pump-vfd': {
          type: 'modbus-rtu',
          ...common,
          unitId: 9,
          registers: [
            { name: 'speed', table: 'input', address: 0, type: 'int16', scale: 0.5, unit: 'Hz' },
            { name: 'fault', table: 'discrete', address: 2, type: 'bool' },
          ],
        },
      },
    });
    const { sub, gw, stop } = await startGatewayUnderTest(broker, config, `modbus-rtu-e2e-${process.pid}`);
    cleanups.push(stop);

    const of = (device: string) => sub.readings.filter((r) => r.device === device);
    await sub.waitFor(() => of('cabinet-meter').some((r) => r.point === 'temperature' && r.value === 21.5), 20_000);
    await sub.waitFor(() => of('pump-vfd').some((r) => r.point === 'speed' && r.value === -20), 20_000);
    expect(of('cabinet-meter').find((r) => r.point === 'temperature')).toMatchObject({ unit: 'Cel', quality: 'good' });
    expect(of('pump-vfd').some((r) => r.point === 'fault' && r.value === true)).toBe(true);

    rig.sim.setFault(4, { kind: 'silence' });
    await sub.waitFor(() => of('cabinet-meter').some((r) => r.quality === 'bad'), 20_000);
    rig.sim.unit(4).setRegisters('holding', 100, [0xc050, 0x0000]); // -3.25 as float32 ABCD
    const vfdDuringOutage = of('pump-vfd').length;
    await new Promise((r) => setTimeout(r, 1000)); // long enough for the breaker to open and probe
    // The other unit on the bus kept its rate (at 100 ms, ~10 polls x 2 points in that second).
    expect(of('pump-vfd').length - vfdDuringOutage).toBeGreaterThanOrEqual(10);
    rig.sim.clearFault(4);
    await sub.waitFor(() => of('cabinet-meter').some((r) => r.point === 'temperature' && r.value === -3.25), 20_000);

    const bad = of('cabinet-meter').filter((r) => r.quality === 'bad');
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatchObject({ point: 'temperature', value: null, attrs: { error: 'ETIMEDOUT' } });
    expect(of('pump-vfd').filter((r) => r.quality === 'bad')).toEqual([]);
    expect(gw.logs.some((l) => /circuit breaker open/.test(l.msg))).toBe(true);
    expect(sub.malformed).toEqual([]);
    expect((await gw.stop()).code).toBe(0);
  });
});
