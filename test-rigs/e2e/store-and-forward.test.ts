import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthPayloadSchema } from '../../gateway/forwarder/payload-schema.js';
import { committedUpTo, pendingReadings } from '../../gateway/outbox/inspect.js';
import { startBroker, type BrokerFixture } from '../broker/broker.js';
import { writeConfigDir, type ConfigDir } from '../harness/config-dir.js';
import { GatewayProcess } from '../harness/gateway-process.js';
import { startModbusTcpSimulator, type ModbusTcpSimulator } from '../modbus-sim/server.js';
import { startSubscriber, type Subscriber } from '../subscriber/subscriber.js';

/**
 * The spine's promise, end to end against real mosquitto and the real daemon process: through a
 * broker outage and a SIGKILL of the gateway, the subscriber sees every sequence number from the
 * first to the last, with duplicates only from the in-flight window each interruption caught.
 */
const INFLIGHT = 4;
const BATCH_MAX = 500;
const DEVICES = 4;

let broker: BrokerFixture;
let sim: ModbusTcpSimulator;
let config: ConfigDir;
let sub: Subscriber;

beforeAll(async () => {
  broker = await startBroker({ persistence: true });
  sim = await startModbusTcpSimulator({ units: [1, 2, 3, 4], stepMs: 20 });
  const devices: Record<string, Record<string, unknown>> = {};
  for (let u = 1; u <= DEVICES; u++) {
    devices[`dev-${u}`] = {
      type: 'modbus-tcp',
      host: sim.host,
      port: sim.port,
      unitId: u,
      intervalMs: 50,
      registers: Array.from({ length: 5 }, (_, i) => ({ name: `r${i}`, address: i, type: 'uint16' })),
    };
  }
  config = writeConfigDir({
    brokerUrls: [broker.url],
    devices,
    gateway: { forward: { inflightWindow: INFLIGHT, batchMaxReadings: BATCH_MAX } },
  });
  sub = await startSubscriber({ url: broker.url, prefix: config.topicPrefix, gatewayId: config.gatewayId, clientId: 'e2e-central' });
});

afterAll(async () => {
  await sub?.stop();
  await sim?.stop();
  await broker?.dispose();
  if (config) rmSync(config.dir, { recursive: true, force: true });
});

describe('store-and-forward end to end (real mosquitto, real daemon)', () => {
  it('loses nothing through a broker outage and a SIGKILL, duplicates only within one in-flight window', async () => {
    let gw = GatewayProcess.start(config.dir);
    await gw.ready();
    await sub.waitFor((s) => s.tracker.receivedCount > 500, 20_000);

    // Broker down for 4 s: readings keep being committed to the outbox.
    await broker.stop();
    await new Promise((r) => setTimeout(r, 4000));
    const beforeRestart = sub.tracker.receivedCount;
    await broker.start();
    await sub.waitFor((s) => s.tracker.receivedCount > beforeRestart + 2000, 30_000);
    expect(gw.logs.some((l) => l.msg === 'broker connection lost; buffering in outbox')).toBe(true);
    // A batch the broker took but could not PUBACK before it stopped is sent again: at most one window.
    const afterOutage = sub.tracker.duplicates;
    expect(afterOutage).toBeLessThanOrEqual(INFLIGHT * BATCH_MAX);

    // SIGKILL mid-stream, then restart on the same outbox.
    const killedAt = sub.tracker.receivedCount;
    await gw.kill('SIGKILL');
    gw = GatewayProcess.start(config.dir);
    await gw.ready();
    await sub.waitFor((s) => s.tracker.receivedCount > killedAt + 1000, 30_000);

    // Clean stop: everything committed must have reached the subscriber.
    const exit = await gw.stop();
    expect(exit.code).toBe(0);
    const last = committedUpTo(config.outboxPath);
    await sub.waitFor((s) => s.tracker.has(last) && s.tracker.gaps().length === 0, 20_000);
    const report = sub.tracker.checkComplete(1, last);
    expect(report.missing).toEqual([]);
    expect(report.complete).toBe(true);
    expect(pendingReadings(config.outboxPath)).toBe(0);
    // Duplicates: at most what one in-flight window can hold when the kill hit.
    expect(sub.tracker.duplicates - afterOutage).toBeLessThanOrEqual(INFLIGHT * BATCH_MAX);
    expect(sub.counters.malformed).toBe(0);
    // The retained health message matches the documented contract and shows every device polled.
    const health = healthPayloadSchema.parse(sub.lastHealth);
    expect(Object.keys(health.devices).sort()).toEqual(['dev-1', 'dev-2', 'dev-3', 'dev-4']);
  }, 120_000);
});
