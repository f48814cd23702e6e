import { afterEach, describe, expect, it } from 'vitest';
import { startBroker } from '../../test-rigs/broker/broker.js';
import { writeConfigDir } from '../../test-rigs/harness/config-dir.js';
import { startGatewayUnderTest } from '../../test-rigs/harness/gateway-under-test.js';
import { startModbusTcpSimulator } from '../../test-rigs/modbus-sim/server.js';

/**
 * Modbus TCP through the whole data path: simulator -> real daemon (dist/, built by `npm test`)
 * -> SQLite outbox -> real broker -> reference subscriber. Includes one device outage so the
 * bad-once policy is seen as a central system sees it.
 */
const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('modbus-tcp end to end', () => {
  it('device values reach the subscriber; an outage arrives as one bad reading per point, then good values again', async () => {
    const broker = await startBroker();
    cleanups.push(() => broker.dispose());
    const sim = await startModbusTcpSimulator({ units: [5], clock: 'manual' });
    cleanups.push(() => sim.stop());
    sim.unit(5).setRegisters('holding', 100, [0x41ac, 0x0000]); // 21.5 as float32 ABCD
    sim.unit(5).setBits('coil', 0, [true]);

    const config = writeConfigDir({
      brokerUrls: [broker.url],
      devices: {
        'cabinet-plc': {
          type: 'modbus-tcp',
          host: sim.host,
          port: sim.port,
          unitId: 5,
          intervalMs: 100,
          timeoutMs: 300,
          registers: [
            { name: 'temperature', address: 100, type: 'float32', unit: 'Cel' },
            { name: 'door.open', table: 'coil', address: 0, type: 'bool' },
          ],
        },
      },
    });
    const { sub, gw, stop } = await startGatewayUnderTest(broker, config, `modbus-e2e-${process.pid}`);
    cleanups.push(stop);

    const plc = () => sub.readings.filter((r) => r.device === 'cabinet-plc');
    await sub.waitFor(() => plc().some((r) => r.point === 'temperature' && r.value === 21.5 && r.quality === 'good'), 20_000);
    expect(plc().find((r) => r.point === 'temperature')).toMatchObject({ unit: 'Cel', quality: 'good' });
    expect(plc().some((r) => r.point === 'door.open' && r.value === true)).toBe(true);

    await sim.refuse();
    await sub.waitFor(() => plc().filter((r) => r.quality === 'bad').length >= 2, 20_000);
    sim.unit(5).setRegisters('holding', 100, [0xc050, 0x0000]); // -3.25 as float32 ABCD
    await new Promise((r) => setTimeout(r, 800)); // several intervals of outage
    await sim.restore();
    await sub.waitFor(() => plc().some((r) => r.point === 'temperature' && r.value === -3.25), 20_000);

    const bad = plc().filter((r) => r.quality === 'bad');
    expect(bad.map((r) => r.point).sort()).toEqual(['door.open', 'temperature']);
    expect(bad.every((r) => r.value === null && typeof r.attrs?.error === 'string')).toBe(true);
    expect(sub.malformed).toEqual([]);
    expect((await gw.stop()).code).toBe(0);
  });
});
