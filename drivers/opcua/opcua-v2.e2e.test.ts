import { afterEach, describe, expect, it } from 'vitest';
import { writeConfigDir } from '../../test-rigs/harness/config-dir.js';
import { startOpcuaE2eRig } from '../../test-rigs/opcua-server/e2e-rig.js';
import { collectRawBatches } from '../../test-rigs/subscriber/raw-batches.js';
import { startGatewayUnderTest } from '../../test-rigs/harness/gateway-under-test.js';

/**
 * OPC-UA with payload v2 and report by exception through the real daemon and mosquitto: the good
 * values of a publish response travel as poll records, and the report filter still holds back
 * what stays inside a deadband, on the packed path the driver now takes.
 */
const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});


describe('opcua end to end, payload v2 with report by exception', () => {
  it('good values arrive as poll records; a deadband on a noisy value still holds its noise back', async () => {
    // Analog: 50 ± 0.2 noise every tick, a jump of 10 every 5 ticks.
    const { broker, device } = await startOpcuaE2eRig('opcua-v2-e2e', { tickMs: 100, jumpEvery: 5 }, cleanups);

    const config = writeConfigDir({
      brokerUrls: [broker.url],
      gateway: { forward: { payloadVersion: 2 } },
      devices: {
        plc: device({
          items: [
            { nodeId: 'ns=1;s=Counter', point: 'vehicles', samplingIntervalMs: 100 },
            { nodeId: 'ns=1;s=Analog', point: 'level', unit: '%', samplingIntervalMs: 100 },
            { nodeId: 'ns=1;s=Flag', point: 'flag', samplingIntervalMs: 100 },
          ],
          report: { onChange: false, points: { level: { onChange: true, deadband: 1, heartbeat: '1h' } } },
        }),
      },
    });
    const { batches: raw, problems, stop: stopRaw } = await collectRawBatches(broker.url, `${config.topicPrefix}/${config.gatewayId}/telemetry`);
    cleanups.push(stopRaw);
    const { sub, gw, stop } = await startGatewayUnderTest(broker, config, `opcua-v2-e2e-${process.pid}`);
    cleanups.push(stop);

    const plc = () => sub.readings.filter((r) => r.device === 'plc');
    const level = () => plc().filter((r) => r.point === 'level');
    await sub.waitFor(() => level().length >= 3 && plc().filter((r) => r.point === 'vehicles').length >= 30, 40_000);
    expect((await gw.stop()).code).toBe(0);

    expect(problems).toEqual([]);
    expect(sub.malformed).toEqual([]);
    const records = raw.flatMap((b) => b.readings.filter((i) => 'layout' in i).map((i) => ({ i, layout: b.layouts![i.layout as string]! })));
    expect(records.length).toBeGreaterThan(5);
    expect(records.every(({ layout }) => layout.device === 'plc')).toBe(true);
    // The noise never passes the deadband: each level sent moved by more than 1 from the one before.
    const sent = level().map((r) => r.value as number);
    for (let i = 1; i < sent.length; i++) expect(Math.abs(sent[i]! - sent[i - 1]!)).toBeGreaterThan(1);
    expect(sent.length).toBeLessThan(plc().filter((r) => r.point === 'vehicles').length / 2);
    // ... and a level that did pass went packed, in a record over the points that changed with it.
    expect(records.some(({ layout }) => layout.points.includes('level'))).toBe(true);
  });
});
