import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeConfigDir } from '../../test-rigs/harness/config-dir.js';
import { startOpcuaE2eRig } from '../../test-rigs/opcua-server/e2e-rig.js';
import { startGatewayUnderTest } from '../../test-rigs/harness/gateway-under-test.js';

/**
 * OPC-UA through the whole data path: node-opcua server rig -> real daemon (dist/, built by
 * `npm test`) with the OPC-UA password in a passwordFile -> SQLite outbox -> real broker ->
 * reference subscriber. Quality from the OPC-UA status must survive the trip, the subscription
 * must come back after a server restart, and the password must appear nowhere.
 */
const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const PASSWORD = 'e2e-Plc-Pa55';

describe('opcua end to end', () => {
  it('subscribed values reach the subscriber with quality; a server restart is ridden out', async () => {
    const { work, server, broker, device } = await startOpcuaE2eRig('opcua-e2e', { tickMs: 100, user: { username: 'gateway', password: PASSWORD } }, cleanups);
    const passwordFile = join(work, 'plc.pw');
    writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });

    const config = writeConfigDir({
      brokerUrls: [broker.url],
      devices: {
        'plc-south': device({
          auth: { type: 'username', username: 'gateway', passwordFile },
          items: [
            { nodeId: 'ns=1;s=Counter', point: 'vehicles', samplingIntervalMs: 100 },
            { nodeId: 'ns=1;s=Faulty', point: 'sensor', samplingIntervalMs: 100 },
          ],
        }),
      },
    });
    const { sub, gw, stop } = await startGatewayUnderTest(broker, config, `opcua-e2e-${process.pid}`);
    cleanups.push(stop);

    const plc = () => sub.readings.filter((r) => r.device === 'plc-south');
    await sub.waitFor(() => plc().filter((r) => r.point === 'vehicles' && r.quality === 'good').length >= 3, 30_000);
    server.setFaultyStatus('bad');
    await sub.waitFor(() => plc().some((r) => r.point === 'sensor' && r.quality === 'bad'), 20_000);
    expect(plc().find((r) => r.point === 'sensor' && r.quality === 'bad')).toMatchObject({ value: null, attrs: { status: 'BadSensorFailure' } });
    server.setFaultyStatus('good');

    await server.restart();
    const restartedAt = Date.now();
    await sub.waitFor(() => plc().filter((r) => r.point === 'vehicles' && r.ts > restartedAt).length >= 3, 40_000);

    expect(sub.malformed).toEqual([]);
    expect((await gw.stop()).code).toBe(0);
    const logged = JSON.stringify(gw.logs) + gw.stderr.join('\n');
    expect(JSON.stringify(sub.readings)).not.toContain(PASSWORD);
    expect(logged).not.toContain(PASSWORD);
    expect(logged).toContain('plc-south');
  });
});
