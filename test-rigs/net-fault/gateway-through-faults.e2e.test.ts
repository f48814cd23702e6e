import { committedUpTo } from '../../gateway/outbox/inspect.js';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type BrokerFixture } from '../broker/broker.js';
import { writeConfigDir, type ConfigDir } from '../harness/config-dir.js';
import { GatewayProcess } from '../harness/gateway-process.js';
import { startModbusTcpSimulator, type ModbusTcpSimulator } from '../modbus-sim/server.js';
import { startSubscriber, type Subscriber } from '../subscriber/subscriber.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';

/**
 * The real daemon talks to real mosquitto through the fault proxy; the subscriber is connected
 * directly. Every kind of network fault in turn, then a clean stop: nothing committed may be
 * missing, and duplicates stay within what the in-flight windows could hold.
 */
const INFLIGHT = 4;
const BATCH_MAX = 200;

let broker: BrokerFixture;
let proxy: FaultProxy;
let sim: ModbusTcpSimulator;
let config: ConfigDir;
let sub: Subscriber;
let gw: GatewayProcess | undefined;

beforeAll(async () => {
  broker = await startBroker({ persistence: true });
  proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: broker.port } });
  sim = await startModbusTcpSimulator({ units: [1], stepMs: 20 });
  config = writeConfigDir({
    brokerUrls: [`mqtt://127.0.0.1:${proxy.port}`],
    devices: {
      'dev-1': {
        type: 'modbus-tcp',
        host: sim.host,
        port: sim.port,
        unitId: 1,
        intervalMs: 50,
        registers: Array.from({ length: 5 }, (_, i) => ({ name: `r${i}`, address: i, type: 'uint16' })),
      },
    },
    gateway: {
      mqtt: { keepalive: '2s' },
      forward: { inflightWindow: INFLIGHT, batchMaxReadings: BATCH_MAX },
    },
  });
  sub = await startSubscriber({ url: broker.url, prefix: config.topicPrefix, gatewayId: config.gatewayId, clientId: `e2e-nf-${Date.now()}` });
});

afterAll(async () => {
  await gw?.kill('SIGKILL');
  await sub?.stop();
  await proxy?.stop();
  await sim?.stop();
  await broker?.dispose();
  if (config) rmSync(config.dir, { recursive: true, force: true });
});


const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('gateway through network faults (real daemon, fault proxy, real mosquitto)', () => {
  it('loses nothing through reset, blackhole, stall and refuse', async () => {
    const started = GatewayProcess.start(config.dir);
    gw = started;
    await started.ready().catch((err: Error) => {
      throw new Error(`${err.message}\n${started.stderr.join('\n')}`);
    });
    await sub.waitFor((s) => s.tracker.receivedCount > 200, 20_000);
    let interruptions = 0;
    const progressAfter = async (what: string): Promise<void> => {
      const before = sub.tracker.receivedCount;
      await sub.waitFor((s) => s.tracker.receivedCount > before + 200, 30_000).catch((err: Error) => {
        const tail = started.logs.slice(-15).map((l) => JSON.stringify(l)).join('\n');
        throw new Error(`no progress after ${what}: ${err.message}\nproxy ${JSON.stringify(proxy.stats)}\ngateway log tail:\n${tail}`);
      });
    };

    proxy.resetAll();
    interruptions++;
    await progressAfter('reset');

    // Half-open link: only the gateway's 2 s keepalive can notice. Longer than a few keepalives.
    await proxy.mode('blackhole');
    await sleep(8_000);
    await proxy.mode('pass');
    interruptions++;
    await progressAfter('blackhole');

    await proxy.mode('stall');
    await sleep(1_500);
    await proxy.mode('pass');
    interruptions++;
    await progressAfter('stall');

    await proxy.mode('refuse');
    proxy.resetAll();
    await sleep(2_000);
    await proxy.mode('pass');
    interruptions++;
    await progressAfter('refuse');

    expect(gw.logs.some((l) => l.msg === 'broker connection lost; buffering in outbox')).toBe(true);
    const exit = await gw.stop();
    gw = undefined;
    expect(exit.code).toBe(0);
    const last = committedUpTo(config.outboxPath);
    await sub.waitFor((s) => s.tracker.has(last) && s.tracker.gaps().length === 0, 30_000);
    const report = sub.tracker.checkComplete(1, last);
    expect(report.missing).toEqual([]);
    expect(report.complete).toBe(true);
    expect(sub.tracker.duplicates).toBeLessThanOrEqual(interruptions * INFLIGHT * BATCH_MAX);
    expect(sub.counters.malformed).toBe(0);
    expect(proxy.stats.resets).toBeGreaterThanOrEqual(2);
    expect(proxy.stats.droppedUp).toBeGreaterThan(0);
  }, 150_000);
});
