import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type BrokerFixture } from '../test-rigs/broker/broker.js';
import { writeConfigDir, type ConfigDir } from '../test-rigs/harness/config-dir.js';
import { GatewayProcess } from '../test-rigs/harness/gateway-process.js';
import { runCli } from '../test-rigs/harness/run-cli.js';
import { startModbusTcpSimulator, type ModbusTcpSimulator } from '../test-rigs/modbus-sim/server.js';
import { startSubscriber, type Subscriber } from '../test-rigs/subscriber/subscriber.js';
import type { DoctorReport } from './ops/doctor.js';
import { EXIT_OUTBOX_LOCKED } from './outbox/lock.js';
import { committedUpTo } from './outbox/inspect.js';
import { OUTBOX_SCHEMA_VERSION } from './outbox/schema-version.js';

/**
 * One daemon per outbox, independent of the control socket (issue 21, finding 1). As on a box
 * where /run/edge-gateway is missing, the control socket cannot be created, so a second daemon
 * cannot find the first through it. The second must still be refused at once, naming the holder,
 * while the first keeps forwarding and no seq goes upstream twice with different content; and
 * the read-only tools (check-config, doctor, probe, the outbox inspector) keep working beside it.
 */
let broker: BrokerFixture;
let sim: ModbusTcpSimulator;
let config: ConfigDir;
let sub: Subscriber;
const daemons: GatewayProcess[] = [];

beforeAll(async () => {
  broker = await startBroker();
  sim = await startModbusTcpSimulator({ units: [1, 2], stepMs: 20 });
  const device = (unitId: number) => ({ type: 'modbus-tcp', host: '127.0.0.1', port: sim.port, unitId, intervalMs: 50, registers: [{ name: 'counter', address: 0, type: 'uint16' }] });
  config = writeConfigDir({ brokerUrls: [broker.url], devices: { pump: device(1), fan: device(2) } });
  // A socket path whose directory cannot exist (its parent is a file): "control socket unavailable".
  const gatewayYaml = join(config.dir, 'gateway.yaml');
  writeFileSync(gatewayYaml, readFileSync(gatewayYaml, 'utf8').replace(join(config.dir, 'control.sock'), join(gatewayYaml, 'run', 'control.sock')));
  sub = await startSubscriber({ url: broker.url, prefix: config.topicPrefix, gatewayId: config.gatewayId, clientId: 'single-daemon-test', keepReadings: true });
}, 30_000);

afterAll(async () => {
  // Daemons first (they hold the broker and the simulator), then the rigs around them.
  for (const d of daemons) await d.kill();
  await Promise.all([sub?.stop(), sim?.stop()]);
  await broker?.dispose();
  if (config) rmSync(config.dir, { recursive: true, force: true });
});

describe('a second daemon on a running outbox', () => {
  it('is refused within 10 s with its own exit code, naming the holder; the first loses nothing and reuses no seq', async () => {
    const first = GatewayProcess.start(config.dir);
    daemons.push(first);
    await first.ready(20_000);
    // ...and says what to do about the missing directory (issue 21, finding 7).
    const unavailable = await first.waitForLog((l) => l.msg.startsWith('control socket unavailable'));
    expect(unavailable.msg).toContain(`${join(config.dir, 'gateway.yaml', 'run')} does not exist. Under systemd it exists while the unit runs`);
    const status = await runCli(['status', '--config', config.dir]);
    expect(status.code).toBe(1);
    expect(status.stderr).toMatch(/is the gateway running\? .*run does not exist\. .*For a gateway run by hand/);
    await sub.waitFor((s) => s.tracker.receivedCount > 50, 15_000);

    const startedAt = Date.now();
    const second = GatewayProcess.start(config.dir);
    daemons.push(second);
    const exit = await Promise.race([second.waitExit(), new Promise<'still running'>((r) => setTimeout(() => r('still running'), 10_000))]);
    expect(exit).toEqual({ code: EXIT_OUTBOX_LOCKED, signal: null });
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    const refusal = second.stderr.join('\n');
    expect(refusal).toMatch(/another edge-gateway daemon is running on the outbox/);
    expect(refusal).toContain(`pid ${first.pid} `);
    expect(refusal).toContain(`config ${config.dir}`);
    // Refused before touching the outbox.
    expect(second.logs.some((l) => l.msg === 'outbox open')).toBe(false);

    // The first goes on forwarding.
    const before = sub.tracker.receivedCount;
    await sub.waitFor((s) => s.tracker.receivedCount > before + 50, 15_000);
    expect(first.child.exitCode).toBeNull();

    const stopped = await first.stop();
    expect(stopped.code).toBe(0);
    const last = committedUpTo(config.outboxPath);
    await sub.waitFor((s) => s.tracker.has(last), 15_000);
    expect(sub.tracker.reused).toBe(0);
    expect(sub.tracker.checkComplete(1, last).missing).toEqual([]);
  }, 90_000);

  it('leaves check-config, doctor, probe and the outbox inspector working beside the running daemon', async () => {
    const gw = GatewayProcess.start(config.dir);
    daemons.push(gw);
    await gw.ready(20_000);
    await sub.waitFor((s) => s.tracker.receivedCount > 20, 15_000);

    const check = await runCli(['check-config', config.dir]);
    expect(check.code).toBe(0);

    const doctor = await runCli(['doctor', '--config', config.dir, '--json', '--no-probe', '--timeout', '2000']);
    const report = JSON.parse(doctor.stdout) as DoctorReport;
    const byId = Object.fromEntries(report.checks.map((c) => [c.id, c]));
    expect(byId.outbox).toMatchObject({ status: 'pass' });
    expect(byId.outbox!.detail).toMatch(new RegExp(`quick_check ok .*schema ${OUTBOX_SCHEMA_VERSION}\\)`));
    // No answering socket, but the lock says who runs: not reported as "not running".
    expect(byId.daemon).toMatchObject({ status: 'warn' });
    expect(byId.daemon!.detail).toContain(`pid ${gw.pid} `);
    expect(report.version.package).toMatch(/^\d+\.\d+\.\d+/);

    const probe = await runCli(['probe', 'modbus', '--host', '127.0.0.1', '--tcp-port', String(sim.port), '--unit', '1', '--register', '0', '--count', '1', '--json']);
    expect(probe.stderr).toBe('');
    expect(probe.code).toBe(0);

    expect(committedUpTo(config.outboxPath)).toBeGreaterThan(0);
    // The daemon never noticed: still running and committing.
    const seq = committedUpTo(config.outboxPath);
    await sub.waitFor((s) => s.tracker.has(seq), 15_000);
    expect(gw.child.exitCode).toBeNull();
    expect((await gw.stop()).code).toBe(0);
  }, 90_000);
});
