import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startBroker } from '../../test-rigs/broker/broker.js';
import { writeConfigDir } from '../../test-rigs/harness/config-dir.js';
import { startGatewayUnderTest } from '../../test-rigs/harness/gateway-under-test.js';
import { startRtuRig } from '../../test-rigs/modbus-rtu-sim/rig.js';

/**
 * A command over Modbus RTU: command centre -> mosquitto -> the real daemon -> a real pty (socat)
 * -> the RTU bus simulator, while the same unit is being polled on the same port. The write must
 * take its own turn on the half-duplex bus (a FC16 frame between FC3 polls, never inside one),
 * land in the registers word-swapped as the manual says, and read back equal.
 */
const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('modbus-rtu commands end to end', () => {
  it('writes an int32 CDAB holding register between polls of the same unit and reads it back', async () => {
    const broker = await startBroker();
    cleanups.push(() => broker.dispose());
    const rig = await startRtuRig({ units: [7] });
    cleanups.push(() => rig.close());
    rig.sim.unit(7).setRegisters('holding', 40, [0x0064, 0x0000]); // 100 as int32 CDAB

    const config = writeConfigDir({
      brokerUrls: [broker.url],
      gateway: { commands: { enabled: true, maxExpiryAhead: '1m' } },
      devices: {
        'dosing-pump': {
          type: 'modbus-rtu',
          port: { path: rig.path, baudRate: 19200, parity: 'even' },
          unitId: 7,
          intervalMs: 100,
          timeoutMs: 300,
          registers: [{ name: 'stroke.target', address: 40, type: 'int32', order: 'CDAB' }],
          writes: [{ name: 'stroke.target', address: 40, type: 'int32', order: 'CDAB', min: -200_000, max: 200_000, minInterval: 0 }],
        },
      },
    });
    const { sub, gw, stop } = await startGatewayUnderTest(broker, config, `modbus-rtu-cmd-e2e-${process.pid}`);
    cleanups.push(stop);
    await gw.waitForLog((l) => l.msg === 'subscribed');
    const polled = (v: number) => sub.readings.some((r) => r.device === 'dosing-pump' && r.point === 'stroke.target' && r.value === v);
    await sub.waitFor(() => polled(100), 20_000);

    const centre = await mqtt.connectAsync(broker.url, { clientId: `modbus-rtu-cmd-centre-${process.pid}` });
    cleanups.push(() => centre.endAsync());
    const fcBefore = rig.sim.stats.functionLog.length;
    const cmd = { v: 1, id: 'stroke-1', device: 'dosing-pump', point: 'stroke.target', action: 'write', value: -123456, expiresAt: Date.now() + 20_000 };
    await centre.publishAsync(`${config.topicPrefix}/${config.gatewayId}/commands`, JSON.stringify(cmd), { qos: 1 });

    const outcomes = () => sub.readings.filter((x) => x.device === '_gateway' && x.point === 'command' && x.attrs?.id === 'stroke-1');
    await sub.waitFor(() => outcomes().some((x) => x.value !== 'accepted'), 20_000);
    expect(outcomes().map((x) => x.value)).toEqual(['accepted', 'executed']);
    expect(outcomes()[1]!.attrs).toMatchObject({ device: 'dosing-pump', point: 'stroke.target', action: 'write', source: 'mqtt', readBack: -123456 });

    // -123456 = 0xFFFE1DC0; CDAB puts the low word first. Written by hand, not by our encoder.
    expect(Array.from(rig.sim.unit(7).holding.subarray(40, 42))).toEqual([0x1dc0, 0xfffe]);
    await sub.waitFor(() => polled(-123456), 20_000);

    // One FC16 on the bus, between polls (FC3) of the same unit; a frame sent inside another
    // transaction would have garbled both (rejected frames, a bad reading).
    expect(rig.sim.stats.functionLog.slice(fcBefore).filter((fc) => fc === 16)).toHaveLength(1);
    const fcs = rig.sim.stats.functionLog;
    const at = fcs.indexOf(16);
    expect(fcs.slice(0, at)).toContain(3);
    expect(fcs.slice(at + 1)).toContain(3);
    expect(rig.sim.stats.rejectedFrames).toBe(0);
    expect(sub.readings.filter((r) => r.device === 'dosing-pump' && r.quality !== 'good')).toEqual([]);
    expect((await gw.stop()).code).toBe(0);
  });
});
