import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type BrokerFixture } from '../test-rigs/broker/broker.js';
import { writeConfigDir, type ConfigDir } from '../test-rigs/harness/config-dir.js';
import { GatewayProcess } from '../test-rigs/harness/gateway-process.js';
import { startModbusTcpSimulator, type ModbusTcpSimulator } from '../test-rigs/modbus-sim/server.js';
import { startSubscriber, type Subscriber } from '../test-rigs/subscriber/subscriber.js';
import { startNotifyListener, type NotifyListener } from '../test-rigs/systemd/notify-listener.js';
import { request, stream } from './control/client.js';
import type { TailLine } from './control/protocol.js';
import type { ReloadResult } from './daemon.js';
import type { HealthReport } from './health.js';
import { EXIT_OUTBOX_LOCKED } from './outbox/lock.js';

/**
 * The daemon as systemd and a maintainer see it: READY only after start, watchdog pings,
 * RELOADING/READY around a SIGHUP reload, STOPPING on SIGTERM; status and tail over the control
 * socket; a reload that restarts only the changed device, and a broken config that is rejected
 * while the old one keeps forwarding — with every sequence number still arriving upstream.
 */
let broker: BrokerFixture;
let sim: ModbusTcpSimulator;
let config: ConfigDir;
let sub: Subscriber;
let notify: NotifyListener;
/** Daemons a test started: one that failed halfway must not hold the config's lock for the next. */
const started: GatewayProcess[] = [];
const startGateway = (...args: Parameters<typeof GatewayProcess.start>) => {
  const gw = GatewayProcess.start(...args);
  started.push(gw);
  return gw;
};

const device = (intervalMs: number) => ({
  type: 'modbus-tcp',
  host: '127.0.0.1',
  port: sim.port,
  unitId: 1,
  intervalMs,
  registers: [{ name: 'counter', address: 0, type: 'uint16' }],
});

beforeAll(async () => {
  broker = await startBroker({ persistence: true });
  sim = await startModbusTcpSimulator({ units: [1, 2], stepMs: 20 });
  config = writeConfigDir({ brokerUrls: [broker.url], devices: { pump: device(100), fan: { ...device(100), unitId: 2 } } });
  sub = await startSubscriber({ url: broker.url, prefix: config.topicPrefix, gatewayId: config.gatewayId, clientId: 'service-test', keepReadings: true });
  notify = await startNotifyListener();
});

afterEach(async () => {
  await Promise.all(started.splice(0).map((gw) => gw.kill()));
});

afterAll(async () => {
  await notify?.stop();
  await sub?.stop();
  await sim?.stop();
  await broker?.dispose();
  if (config) rmSync(config.dir, { recursive: true, force: true });
});

describe('the daemon as a service', () => {
  it('notifies systemd, serves status and tail, reloads safely, and stops cleanly', async () => {
    const gw = startGateway(config.dir, { env: { NOTIFY_SOCKET: notify.socketPath, WATCHDOG_USEC: '1000000' } });
    const socket = join(config.dir, 'control.sock');
    const ready = await notify.waitFor(/^READY=1/m, 20_000);
    // READY comes only after the drivers started. The log and the notification travel on
    // different pipes, so compare the daemon's own log stamp with the datagram's arrival time.
    const deviceStarted = await gw.waitForLog((l) => l.msg === 'device started', 5000);
    expect(deviceStarted.time as number).toBeLessThanOrEqual(ready.receivedAt);
    await notify.waitFor(/^WATCHDOG=1/m, 10_000, ready.index);

    // status over the control socket
    await sub.waitFor((s) => s.tracker.receivedCount > 20, 15_000);
    const status = await request<HealthReport>(socket, { cmd: 'status' });
    expect(status.gateway).toBe(config.gatewayId);
    expect(status.devices.pump!.state).toBe('ok');
    expect(status.broker.connected).toBe(true);

    // tail: committed readings with their sequence numbers, filtered by device
    const ac = new AbortController();
    const tailed: TailLine[] = [];
    for await (const line of stream<TailLine>(socket, { cmd: 'tail', device: 'fan' }, ac.signal)) {
      tailed.push(line);
      if (tailed.length >= 5) break;
    }
    ac.abort();
    expect(tailed.every((l) => l.device === 'fan' && l.point === 'counter' && l.quality === 'good')).toBe(true);
    expect(tailed.map((l) => l.seq)).toEqual([...tailed.map((l) => l.seq)].sort((a, b) => a - b));

    // A valid change to one device file: only that device restarts.
    const before = notify.messages.length;
    writeFileSync(join(config.dir, 'devices/pump.yaml'), readFileSync(join(config.dir, 'devices/pump.yaml'), 'utf8').replace('intervalMs: 100', 'intervalMs: 200'));
    const viaSocket = await request<ReloadResult>(socket, { cmd: 'reload' });
    expect(viaSocket).toMatchObject({ ok: true, restarted: ['pump'], unchanged: ['fan'], restartNeeded: [] });
    const reloading = await notify.waitFor(/^RELOADING=1/m, 10_000, before);
    expect(reloading.message).toMatch(/MONOTONIC_USEC=\d+/);
    await notify.waitFor(/^READY=1/m, 10_000, reloading.index);

    // A broken config over SIGHUP: rejected with file and line, the old config keeps running,
    // and central systems hear about it as an event.
    writeFileSync(join(config.dir, 'devices/fan.yaml'), 'type: modbus-tcp\nhost: [oops\n');
    const seqBefore = (await request<HealthReport>(socket, { cmd: 'status' })).outbox.nextSeq;
    gw.child.kill('SIGHUP');
    const rejected = await gw.waitForLog((l) => l.msg.startsWith('reload rejected: devices/fan.yaml:'));
    expect(rejected.msg).toMatch(/^reload rejected: devices\/fan\.yaml:\d+: YAML/);
    await sub.waitFor((s) => s.readings.some((r) => r.device === '_gateway' && r.point === 'config.error'), 15_000);
    await new Promise((r) => setTimeout(r, 500));
    const after = await request<HealthReport>(socket, { cmd: 'status' });
    expect(after.outbox.nextSeq).toBeGreaterThan(seqBefore); // still polling and committing
    expect(after.devices.fan!.state).toBe('ok');
    // ...and status keeps saying so until the files are fixed, with file:line and since when.
    expect(after.config).toMatchObject({ running: 'config-dir', rejected: { by: 'reload', problems: 1 } });
    expect(after.config.rejected!.first[0]).toMatch(/^devices\/fan\.yaml:\d+: YAML/);
    expect(Date.parse(after.config.rejected!.since)).toBeGreaterThan(Date.now() - 60_000);
    expect(after.version.package).toMatch(/^\d+\.\d+\.\d+/);

    // SIGTERM: STOPPING, exit 0, and everything committed arrived upstream exactly.
    const stopIndex = notify.messages.length;
    const exit = await gw.stop();
    expect(exit.code).toBe(0);
    await notify.waitFor(/^STOPPING=1/m, 5000, stopIndex);
    const last = after.outbox.nextSeq - 1;
    await sub.waitFor((s) => s.tracker.has(last), 15_000);
    const highest = sub.tracker.summary().highest!;
    expect(sub.tracker.checkComplete(1, highest).missing).toEqual([]);
  }, 120_000);

  it('refuses to start a second daemon on the same config', async () => {
    const first = startGateway(config.dir);
    writeFileSync(join(config.dir, 'devices/fan.yaml'), `type: modbus-tcp\nhost: 127.0.0.1\nport: ${sim.port}\nunitId: 2\nregisters: [{ name: counter, address: 0, type: uint16 }]\n`);
    await first.ready();
    const second = startGateway(config.dir);
    const exit = await second.waitExit();
    // The outbox lock refuses it before the control socket is even tried (single-daemon.test.ts
    // covers the case where there is no socket to find).
    expect(exit.code).toBe(EXIT_OUTBOX_LOCKED);
    expect(second.stderr.join('\n')).toContain(`another edge-gateway daemon is running on the outbox ${config.outboxPath}: held by pid ${first.pid} `);
    expect(second.logs.some((l) => l.msg === 'outbox open')).toBe(false);
    await first.stop();
  }, 60_000);

  it('restarts on the last good config after a bad edit, says so in status, health and an event, and leaves it once fixed', async () => {
    const socket = join(config.dir, 'control.sock');
    const fanFile = join(config.dir, 'devices/fan.yaml');
    const good = readFileSync(fanFile, 'utf8');
    // A start on a valid config keeps it as the last good one.
    const first = startGateway(config.dir);
    await first.ready();
    expect((await first.stop()).code).toBe(0);

    // The bad edit, then a power cut and a restart: every device must keep reading.
    writeFileSync(fanFile, good.replace('unitId: 2', 'unitId: two'));
    const gw = startGateway(config.dir);
    await gw.ready();
    expect(gw.stderr.join('\n')).toMatch(/config in .* is invalid \(1 problem\(s\)\): running the LAST GOOD config saved /);
    const status = await request<HealthReport>(socket, { cmd: 'status' });
    expect(status.config).toMatchObject({ running: 'last-good', rejected: { by: 'start', problems: 1 } });
    expect(status.config.rejected!.first[0]).toMatch(/^devices\/fan\.yaml:\d+: unitId: /);
    await sub.waitFor((s) => s.readings.some((r) => r.device === '_gateway' && r.point === 'config.fallback'), 15_000);
    const fallback = sub.readings.find((r) => r.device === '_gateway' && r.point === 'config.fallback')!;
    expect(String(fallback.attrs?.first)).toMatch(/^devices\/fan\.yaml:\d+: unitId: /);
    // Both devices run, the one whose file is broken on its last good settings.
    const deadline = Date.now() + 15_000;
    let h = status;
    while (!(h.devices.fan?.state === 'ok' && h.devices.pump?.state === 'ok') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      h = await request<HealthReport>(socket, { cmd: 'status' });
    }
    expect([h.devices.fan?.state, h.devices.pump?.state]).toEqual(['ok', 'ok']);
    await sub.waitFor((s) => (s.lastHealth as { config?: { running?: string } } | null)?.config?.running === 'last-good', 15_000);

    // Fixed and reloaded: the files on disk run again, and status says all is well.
    writeFileSync(fanFile, good);
    expect(await request<ReloadResult>(socket, { cmd: 'reload' })).toMatchObject({ ok: true });
    const fixed = await request<HealthReport>(socket, { cmd: 'status' });
    expect(fixed.config).toMatchObject({ running: 'config-dir', rejected: null });
    expect((await gw.stop()).code).toBe(0);
  }, 90_000);
});
