import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type BrokerFixture } from '../../test-rigs/broker/broker.js';
import { freeLoopbackPort } from '../../test-rigs/broker/port.js';
import { writeConfigDir, type ConfigDir } from '../../test-rigs/harness/config-dir.js';
import { startModbusTcpSimulator, type ModbusTcpSimulator } from '../../test-rigs/modbus-sim/server.js';
import { driverModuleFor, driverModules } from '../../drivers/registry.js';
import { loadConfig } from '../config/load.js';
import type { DoctorReport } from './doctor.js';
import { checkBrokers } from './doctor/broker.js';
import type { CheckResult } from './doctor/check.js';
import { runCli } from '../../test-rigs/harness/run-cli.js';

/**
 * doctor on a box where things are wrong, with the daemon stopped: nothing listens on the broker
 * port, a serial adapter is missing, a Modbus unit does not exist, the outbox file is garbage and
 * the clock is not synchronised. Each must fail with advice; a device that does answer must pass
 * by being read directly.
 */
let sim: ModbusTcpSimulator;
let config: ConfigDir;
let deadPort: number;

const modbus = (unitId: number) => ({
  type: 'modbus-tcp',
  host: '127.0.0.1',
  port: sim.port,
  unitId,
  timeoutMs: 300,
  registers: [{ name: 'temp', address: 4, type: 'float32' }],
});

beforeAll(async () => {
  sim = await startModbusTcpSimulator({ units: [1], clock: 'manual' });
  deadPort = await freeLoopbackPort();
  config = writeConfigDir({
    brokerUrls: [`mqtt://127.0.0.1:${deadPort}`],
    devices: {
      pump: modbus(1),
      ghost: modbus(9),
      scanner: { type: 'barcode-serial', port: { path: '/dev/serial/by-id/usb-nothing-here-if00' } },
    },
  });
  const gatewayYaml = join(config.dir, 'gateway.yaml');
  writeFileSync(gatewayYaml, readFileSync(gatewayYaml, 'utf8').replace('syncCheck: none', `syncCheck: timesyncd\n  syncedFile: ${join(config.dir, 'synchronized')}`));
  writeFileSync(config.outboxPath, Buffer.alloc(8192, 'not a database '));
});

afterAll(async () => {
  await sim?.stop();
  if (config) rmSync(config.dir, { recursive: true, force: true });
});

describe('edge-gateway doctor with problems and no daemon', () => {
  it('fails each broken check with advice, probes Modbus devices directly, and exits 1', async () => {
    const outboxBefore = readFileSync(config.outboxPath);
    const r = await runCli(['doctor', '--config', config.dir, '--json', '--timeout', '2000']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as DoctorReport;
    const byId = Object.fromEntries(report.checks.map((c) => [c.id, c])) as Record<string, CheckResult>;

    expect(byId.config!.status).toBe('pass');
    expect(byId[`broker:mqtt://127.0.0.1:${deadPort}`]).toMatchObject({
      status: 'fail',
      detail: `TCP connect to 127.0.0.1:${deadPort} failed: ECONNREFUSED`,
      advice: `nothing listens on 127.0.0.1:${deadPort}: is the broker running, and is the port right?`,
    });
    expect(byId['path:scanner']).toMatchObject({ status: 'fail', detail: 'not found' });
    expect(byId['path:scanner']!.advice).toMatch(/ls -l \/dev\/serial\/by-id\/.*devices\/scanner\.yaml/);
    expect(byId.clock).toMatchObject({ status: 'fail' });
    expect(byId.clock!.advice).toMatch(/timesyncd/);
    expect(byId.outbox).toMatchObject({ status: 'fail' });
    expect(byId.outbox!.detail).toMatch(/not a database/);
    expect(byId.daemon).toMatchObject({ status: 'fail' });
    expect(byId.daemon!.detail).toMatch(/is the gateway running\?/);
    expect(byId['device:pump']).toMatchObject({ status: 'pass' });
    expect(byId['device:pump']!.detail).toMatch(/^read holding 4\+2 \(temp\) from unit 1: 0x[0-9a-f]{4} 0x[0-9a-f]{4}$/);
    expect(byId['device:ghost']).toMatchObject({ status: 'fail' });
    expect(byId['device:ghost']!.detail).toMatch(/^MODBUS_EXCEPTION_11: /);
    expect(byId['device:ghost']!.advice).toMatch(/unit 9 behind it does not/);
    expect(report.failures).toBe(report.checks.filter((c) => c.status === 'fail').length);
    // Read-only: the damaged outbox is left exactly as it was for the daemon to quarantine.
    expect(readFileSync(config.outboxPath).equals(outboxBefore)).toBe(true);
  }, 30_000);

  it('prints a plain pass/fail list with what to do, and --no-probe leaves devices alone', async () => {
    const before = sim.stats.requests;
    const r = await runCli(['doctor', '--config', config.dir, '--no-probe', '--timeout', '2000']);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain('\x1b[');
    expect(r.stdout).toContain(`FAIL  broker mqtt://127.0.0.1:${deadPort}\n      TCP connect to 127.0.0.1:${deadPort} failed: ECONNREFUSED\n      → nothing listens on`);
    expect(r.stdout).toMatch(/^SKIP {2}devices answer\n {6}not probed \(--no-probe\)$/m);
    expect(r.stdout).toMatch(/^\d+ check\(s\) as user \S+: [1-9]\d* failed, \d+ warning\(s\)$/m);
    expect(sim.stats.requests).toBe(before);
  }, 30_000);
});

describe('broker check against a real broker with a password and TLS', () => {
  let broker: BrokerFixture;
  beforeAll(async () => {
    broker = await startBroker({ auth: { username: 'gw', password: 'right' }, tls: true });
  }, 30_000);
  afterAll(async () => {
    await broker?.dispose();
  });

  const check = async (url: string, mqtt: Record<string, unknown>) => {
    const c = writeConfigDir({ brokerUrls: [url], gateway: { mqtt } });
    try {
      return (await checkBrokers(loadConfig(c.dir), { timeoutMs: 3000 }))[0]!;
    } finally {
      rmSync(c.dir, { recursive: true, force: true });
    }
  };

  it('passes with the right password and CA, and says what is wrong otherwise', async () => {
    const ok = await check(broker.tlsUrl!, { username: 'gw', password: 'right', tls: { caFile: broker.certs!.caFile } });
    expect(ok).toMatchObject({ status: 'pass', detail: 'TCP ok, MQTT CONNECT accepted as gw, TLS certificate verified' });

    const unknownCa = await check(broker.tlsUrl!, { username: 'gw', password: 'right', tls: {} });
    expect(unknownCa.status).toBe('fail');
    expect(unknownCa.detail).toMatch(/^TLS: /);
    expect(unknownCa.advice).toMatch(/mqtt\.tls\.caFile/);

    const badPassword = await check(broker.url, { username: 'gw', password: 'wrong' });
    expect(badPassword.status).toBe('fail');
    expect(badPassword.detail).toMatch(/^broker refused CONNECT: /);
    // mosquitto answers a wrong password with "not authorised" (5) rather than 4.
    expect(badPassword.advice).toMatch(/check mqtt\.username and mqtt\.passwordFile/);
  }, 30_000);

  it('warns that the certificate was NOT verified, or that TLS was not used at all, instead of passing', async () => {
    const unverified = await check(broker.tlsUrl!, { username: 'gw', password: 'right', tls: { rejectUnauthorized: false } });
    expect(unverified.status).toBe('warn');
    expect(unverified.detail).toBe('TCP ok, MQTT CONNECT accepted as gw, TLS certificate NOT verified (mqtt.tls.rejectUnauthorized: false)');
    expect(unverified.advice).toMatch(/pose as the broker.*mqtt\.tls\.caFile/);

    const plain = await check(broker.url, { username: 'gw', password: 'right', tls: { caFile: broker.certs!.caFile } });
    expect(plain.status).toBe('warn');
    expect(plain.detail).toMatch(/NOT encrypted: mqtt\.tls is set but this URL is plain MQTT/);
    expect(plain.advice).toMatch(/use mqtts:\/\//);
  }, 30_000);
});

describe('doctor asks every family what its devices open', () => {
  it('checks every port, file and address that a configured device of any type opens', async () => {
    const dead = await freeLoopbackPort();
    const missing = (name: string) => join(config.dir, 'absent', name);
    const devices: Record<string, Record<string, unknown>> = {
      line: { type: 'serial-line', port: { path: missing('line-tty') }, parse: { kind: 'regex', pattern: '^T=(?<t>\\S+)$', fields: { t: { point: 't' } } } },
      scan: { type: 'barcode-serial', port: { path: missing('scan-tty') } },
      keys: { type: 'barcode-evdev', path: missing('event-kbd') },
      pins: { type: 'gpio', sysfsRoot: missing('gpio'), inputs: [{ name: 'door', pin: 5 }] },
      meter: { type: 'modbus-rtu', port: { path: missing('rs485') }, unitId: 2, registers: [{ name: 'kwh', address: 0, type: 'uint16' }] },
      plc: { type: 'modbus-tcp', host: '127.0.0.1', port: dead, timeoutMs: 300, registers: [{ name: 'temp', address: 0, type: 'uint16' }] },
      cam: { type: 'camera', host: '127.0.0.1', probes: { tcp: { port: dead } } },
      ua: { type: 'opcua', endpointUrl: `opc.tcp://127.0.0.1:${dead}`, items: [{ nodeId: 'ns=2;s=Counter', point: 'counter' }] },
    };
    const every = writeConfigDir({ brokerUrls: [`mqtt://127.0.0.1:${deadPort}`], devices });
    try {
      const loaded = loadConfig(every.dir);
      // A family added to the registry without a device here makes this test say so.
      expect(new Set(loaded.devices.map((d) => d.type))).toEqual(new Set(driverModules.map((m) => m.type)));

      const r = await runCli(['doctor', '--config', every.dir, '--json', '--timeout', '1000']);
      const report = JSON.parse(r.stdout) as DoctorReport;
      let opened = 0;
      for (const d of loaded.devices) {
        const family = driverModuleFor(d.type)!;
        for (const o of family.opens(d)) {
          opened++;
          const where = o.kind === 'file' ? o.path : `${o.host}:${o.port}`;
          const check = report.checks.find((c) => c.title.startsWith(`${d.id}: `) && c.title.includes(where)) ?? report.checks.find((c) => c.id === `device:${d.id}` && c.title.includes(where));
          expect(check, `${d.type} device ${d.id} opens ${where}: no doctor check names it`).toBeDefined();
          expect(check!.status, `${d.id} ${where}`).toBe('fail');
        }
      }
      // serial-line, barcode-serial, barcode-evdev, gpio, modbus-rtu files; modbus-tcp, camera, opcua addresses.
      expect(opened).toBe(8);
      expect(report.checks.find((c) => c.id === 'path:meter')).toMatchObject({ status: 'fail', detail: 'not found' });
      expect(report.checks.find((c) => c.id === 'path:meter')!.advice).toMatch(/ls -l \/dev\/serial\/by-id\/.*devices\/meter\.yaml/);
    } finally {
      rmSync(every.dir, { recursive: true, force: true });
    }
  }, 30_000);
});
