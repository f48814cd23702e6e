import { existsSync, renameSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { committedUpTo } from '../../gateway/outbox/inspect.js';
import { startBroker, type BrokerFixture } from '../broker/broker.js';
import { writeConfigDir, type ConfigDir } from '../harness/config-dir.js';
import { GatewayProcess } from '../harness/gateway-process.js';
import { startModbusTcpSimulator, type ModbusTcpSimulator } from '../modbus-sim/server.js';
import { startSubscriber, type Subscriber } from '../subscriber/subscriber.js';

/**
 * Issue #24 item 2: a technician stops the gateway cleanly and moves outbox.db aside. The next
 * start has a new outbox (new id, seqs from 1) and must say so on the wire, with the previous
 * outbox's id and last seq, so a central system knows a new seq space began and where the old one ended.
 */
let broker: BrokerFixture;
let sim: ModbusTcpSimulator;
let config: ConfigDir;
let sub: Subscriber;

beforeAll(async () => {
  broker = await startBroker();
  sim = await startModbusTcpSimulator({ units: [1], stepMs: 20 });
  config = writeConfigDir({
    brokerUrls: [broker.url],
    devices: { plc: { type: 'modbus-tcp', host: sim.host, port: sim.port, unitId: 1, intervalMs: 50, registers: [{ name: 'r0', address: 0, type: 'uint16' }] } },
  });
  sub = await startSubscriber({ url: broker.url, prefix: config.topicPrefix, gatewayId: config.gatewayId, clientId: 'outbox-replaced', keepReadings: true });
});

afterAll(async () => {
  await sub?.stop();
  await sim?.stop();
  await broker?.dispose();
  if (config) rmSync(config.dir, { recursive: true, force: true });
});

const created = () => sub.readings.filter((r) => r.device === '_gateway' && r.point === 'outbox.created');

describe('a replaced outbox is announced', () => {
  it('announces the first outbox, and a replacement with the previous id and its exact last seq', async () => {
    let gw = GatewayProcess.start(config.dir);
    await gw.ready();
    await sub.waitFor(() => created().length === 1 && sub.tracker.receivedCount > 20, 20_000);
    const first = created()[0]!;
    expect(first.attrs).toEqual({ reason: 'first-start', firstSeq: 1 });
    const oldOutbox = String(first.value);
    expect((await gw.stop()).code).toBe(0);
    const oldLast = committedUpTo(config.outboxPath);

    for (const suffix of ['', '-wal', '-shm']) {
      if (existsSync(config.outboxPath + suffix)) renameSync(config.outboxPath + suffix, `${config.outboxPath}.moved-aside${suffix}`);
    }
    gw = GatewayProcess.start(config.dir);
    await gw.ready();
    await sub.waitFor(() => created().length === 2, 20_000);
    const second = created()[1]!;
    expect(second.value).not.toBe(oldOutbox);
    expect(second.attrs).toEqual({ reason: 'replaced', firstSeq: 1, previousOutbox: oldOutbox, previousLastSeq: oldLast, previousLastSeqExact: true });
    expect(sub.trackers.get(String(second.value))?.has(second.seq)).toBe(true);
    expect((await gw.stop()).code).toBe(0);
  }, 60_000);
});
