import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type BrokerFixture } from '../../test-rigs/broker/broker.js';
import { writeConfigDir, type ConfigDir } from '../../test-rigs/harness/config-dir.js';
import { GatewayProcess } from '../../test-rigs/harness/gateway-process.js';
import { startModbusTcpSimulator, type ModbusTcpSimulator } from '../../test-rigs/modbus-sim/server.js';
import { PtyWriter } from '../../test-rigs/scanner-sim/pty-writer.js';
import { createPtyPair, type PtyPair } from '../../test-rigs/serial/pty.js';
import type { TailLine } from '../control/protocol.js';
import type { ReloadResult } from '../daemon.js';
import type { HealthReport } from '../health.js';
import type { DoctorReport } from './doctor.js';
import { runCli, startCli } from '../../test-rigs/harness/run-cli.js';

/**
 * The technician commands against the real daemon (built CLI, mosquitto, a Modbus TCP simulator
 * and a serial weather station on a socat pty), exactly as they would be typed in a cabinet.
 */
let broker: BrokerFixture;
let sim: ModbusTcpSimulator;
let pty: PtyPair;
let station: PtyWriter;
let stationTimer: NodeJS.Timeout;
let config: ConfigDir;
let gw: GatewayProcess;

const modbus = (unitId: number, intervalMs: number) => ({
  type: 'modbus-tcp',
  host: '127.0.0.1',
  port: sim.port,
  unitId,
  intervalMs,
  registers: [{ name: 'counter', address: 0, type: 'uint16', unit: 'vehicles' }],
});

beforeAll(async () => {
  broker = await startBroker();
  sim = await startModbusTcpSimulator({ units: [1, 2], stepMs: 50 });
  pty = await createPtyPair();
  station = new PtyWriter(pty.b);
  let n = 0;
  stationTimer = setInterval(() => void station.write(`WS T=${(20 + (n++ % 10) / 10).toFixed(1)}\r\n`).catch(() => undefined), 200);
  config = writeConfigDir({
    brokerUrls: [broker.url],
    devices: {
      pump: modbus(1, 100),
      fan: modbus(2, 100),
      weather: {
        type: 'serial-line',
        port: { path: pty.a, baudRate: 9600 },
        parse: { kind: 'regex', pattern: '^WS T=(?<temp>\\S+)$', fields: { temp: { point: 'air.temp', unit: 'degC' } } },
      },
    },
  });
  gw = GatewayProcess.start(config.dir);
  await gw.ready(20_000);
}, 40_000);

afterAll(async () => {
  clearInterval(stationTimer);
  await gw?.stop();
  await station?.close();
  await pty?.close();
  await sim?.stop();
  await broker?.dispose();
  if (config) rmSync(config.dir, { recursive: true, force: true });
});

async function statusJson(): Promise<HealthReport> {
  const r = await runCli(['status', '--config', config.dir, '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as HealthReport;
}

async function waitForDevicesOk(ids: string[], timeoutMs = 15_000): Promise<HealthReport> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const h = await statusJson();
    if (h.broker.connected && ids.every((id) => h.devices[id]?.state === 'ok')) return h;
    if (Date.now() > deadline) throw new Error(`devices not ok in time: ${JSON.stringify(h.devices)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

describe('technician commands against a running gateway', () => {
  it('status --json prints the health report; plain status renders it without colour off a TTY', async () => {
    const h = await waitForDevicesOk(['pump', 'fan', 'weather']);
    expect(h.gateway).toBe(config.gatewayId);
    expect(h.broker.url).toBe(broker.url);
    expect(h.devices.pump!.type).toBe('modbus-tcp');
    expect(h.devices.weather!.type).toBe('serial-line');

    const r = await runCli(['status', '--socket', join(config.dir, 'control.sock')]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('\x1b[');
    expect(r.stdout).toMatch(new RegExp(`^gateway +${config.gatewayId} +up `, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^broker +${broker.url.replace(/[./]/g, '\\$&')} +connected`, 'm'));
    expect(r.stdout).toMatch(/^queue +\d+ reading\(s\)/m);
    expect(r.stdout).toMatch(/^DEVICE +TYPE +STATE +LAST GOOD +ERRORS$/m);
    for (const [id, type] of [['fan', 'modbus-tcp'], ['pump', 'modbus-tcp'], ['weather', 'serial-line']]) {
      expect(r.stdout).toMatch(new RegExp(`^${id} +${type} +ok +\\S+ ago`, 'm'));
    }
  }, 30_000);

  it('status --watch refreshes every second until Ctrl-C', async () => {
    const watch = startCli(['status', '--config', config.dir, '--watch', '--json']);
    await watch.waitForStdout(/(\n[^\n]*){3}/, 10_000);
    const r = await watch.interrupt();
    expect(r.code).toBe(0);
    const reports = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as HealthReport);
    expect(reports.length).toBeGreaterThanOrEqual(3);
    // Roughly a second apart (generous bounds: the machine is shared).
    for (let i = 1; i < reports.length; i++) expect(reports[i]!.ts - reports[i - 1]!.ts).toBeGreaterThanOrEqual(900);
  }, 30_000);

  it('tail --json streams committed readings in seq order until Ctrl-C; --device filters', async () => {
    const all = startCli(['tail', '--config', config.dir, '--json']);
    await all.waitForStdout(/(\{"type":"reading"[^\n]*\n){20}/, 10_000);
    const r = await all.interrupt();
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as TailLine);
    expect(lines.length).toBeGreaterThanOrEqual(20);
    const seqs = lines.map((l) => l.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(new Set(lines.map((l) => l.device))).toEqual(new Set(['pump', 'fan', 'weather']));

    const one = startCli(['tail', '--config', config.dir, '--device', 'weather']);
    await one.waitForStdout(/(air\.temp[^\n]*\n[^\n]*){2}/, 10_000);
    const human = await one.interrupt();
    expect(human.code).toBe(0);
    for (const line of human.stdout.trim().split('\n')) {
      expect(line).toMatch(/^ *\d+  \d\d:\d\d:\d\d\.\d{3}  weather  air\.temp  2\d(\.\d)? degC  good$/);
    }
  }, 30_000);

  it('reload after editing one device file restarts just that device', async () => {
    const file = join(config.dir, 'devices/pump.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('intervalMs: 100', 'intervalMs: 150'));
    const r = await runCli(['reload', '--config', config.dir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^reloaded$/m);
    expect(r.stdout).toMatch(/^ {2}restarted +pump$/m);
    expect(r.stdout).toMatch(/^ {2}unchanged +fan, weather$/m);

    writeFileSync(file, readFileSync(file, 'utf8').replace('intervalMs: 150', 'intervalMs: 100'));
    const json = await runCli(['reload', '--config', config.dir, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, restarted: ['pump'], stopped: [], started: [], restartNeeded: [] } satisfies Partial<ReloadResult>);
    await waitForDevicesOk(['pump']);
  }, 30_000);

  it('reload with a broken file exits 1 with file:line, and the daemon keeps forwarding', async () => {
    const file = join(config.dir, 'devices/fan.yaml');
    const good = readFileSync(file, 'utf8');
    const before = await statusJson();
    writeFileSync(file, good.replace('intervalMs: 100', 'intervalMs: fast'));
    try {
      // The socket path comes from --socket here: the config dir itself is now invalid.
      const r = await runCli(['reload', '--socket', join(config.dir, 'control.sock')]);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^devices\/fan\.yaml:\d+: intervalMs: expected number$/m);
      expect(r.stdout).toMatch(/reload rejected: 1 problem\(s\); the gateway keeps running its previous configuration/);

      // With --config, the socket comes from the config's last good copy (the one the daemon
      // started on), so the broken files are reported by the reload itself, as above.
      const viaConfig = await runCli(['reload', '--config', config.dir]);
      expect(viaConfig.code).toBe(1);
      expect(viaConfig.stdout).toMatch(/^devices\/fan\.yaml:\d+: intervalMs: expected number$/m);
      expect(viaConfig.stderr).toBe('');

      // status keeps showing the rejection, with file:line, until a reload loads the files.
      const shown = await runCli(['status', '--socket', join(config.dir, 'control.sock')]);
      expect(shown.stdout).toMatch(/^config +files on disk REJECTED since \S+ \(at reload, 1 problem\(s\)\); running the previous config\n +devices\/fan\.yaml:\d+: intervalMs: expected number$/m);
    } finally {
      writeFileSync(file, good);
    }
    await new Promise((r) => setTimeout(r, 500));
    const after = await waitForDevicesOk(['fan', 'pump']);
    expect(gw.child.exitCode).toBeNull();
    expect(after.outbox.nextSeq).toBeGreaterThan(before.outbox.nextSeq);
    expect(after.broker.connected).toBe(true);
    // Forwarding continues: the backlog stays small while new readings keep being committed.
    expect(after.outbox.pendingReadings).toBeLessThan(500);
  }, 30_000);

  it('doctor with the daemon running passes every check and reports each device from status', async () => {
    await waitForDevicesOk(['pump', 'fan', 'weather']);
    const r = await runCli(['doctor', '--config', config.dir, '--json']);
    const report = JSON.parse(r.stdout) as DoctorReport;
    const byId = Object.fromEntries(report.checks.map((c) => [c.id, c]));
    expect(report.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(r.code).toBe(0);
    for (const id of ['config', `path:weather`, `broker:${broker.url}`, 'clock', 'outbox', 'daemon', 'device:pump', 'device:fan', 'device:weather']) {
      expect(byId[id]?.status, id).toBe('pass');
    }
    // Disk space depends on the machine: a warning is allowed, a failure is not.
    expect(['pass', 'warn']).toContain(byId.disk?.status);
    expect(byId['outbox']!.detail).toMatch(/quick_check ok/);

    const human = await runCli(['doctor', '--config', config.dir]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^PASS {2}broker mqtt:\/\/127\.0\.0\.1:\d+$/m);
    expect(human.stdout).toMatch(/^\d+ check\(s\) as user \S+: 0 failed, \d+ warning\(s\)$/m);
  }, 30_000);

  it('probe serial on a port the daemon holds says so plainly', async () => {
    const r = await runCli(['probe', 'serial', '--port', pty.a, '--baud', '9600']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`edge-gateway probe serial: serial port ${pty.a} is in use by another process (is the edge-gateway daemon running? stop it or pick another port)\n`);
  }, 15_000);
});
