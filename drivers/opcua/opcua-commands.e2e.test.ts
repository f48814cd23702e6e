import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { writeConfigDir } from '../../test-rigs/harness/config-dir.js';
import { startOpcuaE2eRig } from '../../test-rigs/opcua-server/e2e-rig.js';
import { startGatewayUnderTest } from '../../test-rigs/harness/gateway-under-test.js';
import { EXTRA_NAMESPACES } from '../../test-rigs/opcua-server/server.js';

/**
 * Commands to an OPC-UA server end to end: command centre -> mosquitto -> the real daemon -> a
 * node-opcua server rig; outcomes come back as events. The server's variables are the ground
 * truth of what was written.
 */
const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('opcua commands end to end', () => {
  it('writes an Int16 and an nsu= Float, reads them back, refuses what the type cannot hold, and reports the server refusing', async () => {
    const { server, broker, device } = await startOpcuaE2eRig('opcua-cmd-e2e', { tickMs: 100 }, cleanups);

    const config = writeConfigDir({
      brokerUrls: [broker.url],
      gateway: { commands: { enabled: true, maxExpiryAhead: '1m' } },
      devices: {
        'plc-south': device({
          publishingIntervalMs: 100,
          items: [{ nodeId: 'ns=1;s=Setpoint', point: 'setpoint', samplingIntervalMs: 50 }],
          writes: [
            { name: 'setpoint', nodeId: 'ns=1;s=Setpoint', dataType: 'Int16', min: -2000, max: 2000, minInterval: 0 },
            { name: 'limit', nodeId: `nsu=${EXTRA_NAMESPACES[1]};s=Limit`, dataType: 'Float', minInterval: 0 },
            { name: 'counter', nodeId: 'ns=1;s=Counter', dataType: 'UInt32', minInterval: 0 },
          ],
        }),
      },
    });
    const { sub, gw, stop } = await startGatewayUnderTest(broker, config, `opcua-cmd-e2e-${process.pid}`);
    cleanups.push(stop);
    await gw.waitForLog((l) => l.msg === 'subscribed');
    await sub.waitFor(() => sub.readings.some((r) => r.device === 'plc-south' && r.point === 'setpoint' && r.value === 20), 30_000);

    const centre = await mqtt.connectAsync(broker.url, { clientId: `opcua-cmd-centre-${process.pid}` });
    cleanups.push(() => centre.endAsync());
    const send = (id: string, point: string, value: number | boolean) =>
      centre.publishAsync(
        `${config.topicPrefix}/${config.gatewayId}/commands`,
        JSON.stringify({ v: 1, id, device: 'plc-south', point, action: 'write', value, expiresAt: Date.now() + 20_000 }),
        { qos: 1 },
      );
    const final = async (id: string) => {
      const of = () => sub.readings.filter((x) => x.device === '_gateway' && x.point === 'command' && x.attrs?.id === id && x.value !== 'accepted');
      await sub.waitFor(() => of().length > 0, 20_000);
      return of()[0]!;
    };

    await send('sp-1', 'setpoint', -1234);
    expect(await final('sp-1')).toMatchObject({ value: 'executed', attrs: { point: 'setpoint', readBack: -1234 } });
    expect(server.writableValue('setpoint')).toBe(-1234);
    await sub.waitFor(() => sub.readings.some((r) => r.device === 'plc-south' && r.point === 'setpoint' && r.value === -1234), 20_000);

    await send('lim-1', 'limit', 21.7);
    expect(await final('lim-1')).toMatchObject({ value: 'executed', attrs: { readBack: 21.7 } });
    expect(server.writableValue('limit')).toBe(Math.fround(21.7));

    await send('sp-2', 'setpoint', 12.5);
    expect(await final('sp-2')).toMatchObject({ value: 'rejected' });
    expect((await final('sp-2')).attrs?.reason).toMatch(/^not-representable: 12.5 is not a whole number/);
    await send('cnt-1', 'counter', 5);
    expect(await final('cnt-1')).toMatchObject({ value: 'failed' });
    expect((await final('cnt-1')).attrs?.reason).toMatch(/^BadNotWritable: /);
    expect(server.writableValue('setpoint')).toBe(-1234);
    expect((await gw.stop()).code).toBe(0);
  });
});
