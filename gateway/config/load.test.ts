import { chmodSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cameraPassword, type CameraDeviceConfig } from '../../drivers/camera/schema.js';
import { jsonSchemas, payloadSchema, renderSchema } from './json-schema.js';
import { formatProblem, loadConfig } from './load.js';
import { configProblems } from '../../test-rigs/harness/config-problems.js';

const EXAMPLE = join(import.meta.dirname, '../../config/examples/intersection');
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'config-test-'));
  cpSync(EXAMPLE, dir, { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const problems = (): string[] => configProblems(dir);

describe('config loading', () => {
  it('loads the shipped example into typed objects with defaults and units applied', () => {
    const c = loadConfig(dir);
    expect(c.gateway.gateway.id).toBe('main-5th');
    expect(c.gateway.outbox.commitInterval).toBe(50);
    expect(c.gateway.outbox.retention).toEqual({ maxBytes: 512e6, maxAge: 7 * 86400e3 });
    expect(c.gateway.mqtt.keepalive).toBe(15_000);
    expect(c.devices.map((d) => d.id).sort()).toEqual(['energy-meter', 'parking-counter', 'signal-controller', 'signal-plc', 'weather']);
    expect(c.deviceFiles['signal-controller']).toBe('devices/signal-controller.yaml');
  });

  it('every shipped example config is valid', () => {
    const examples = join(import.meta.dirname, '../../config/examples');
    for (const name of readdirSync(examples)) {
      const c = loadConfig(join(examples, name));
      expect(c.devices.length, name).toBeGreaterThan(0);
    }
  });

  it('reports file, line and key path for a bad enum value', () => {
    const f = join(dir, 'devices/signal-controller.yaml');
    writeFileSync(f, readFileSync(f, 'utf8').replace('type: uint16, scale', 'type: uint61, scale'));
    const lines = readFileSync(f, 'utf8').split('\n');
    const line = lines.findIndex((l) => l.includes('uint61')) + 1;
    expect(problems()).toEqual([
      `devices/signal-controller.yaml:${line}: registers[2].type: expected one of int16, uint16, int32, uint32, float32, float64, bool, bit`,
    ]);
  });

  it('reports every problem at once: unknown keys, wrong types, missing fields, YAML errors, unknown driver type', () => {
    writeFileSync(join(dir, 'gateway.yaml'), 'gateway:\n  id: gw-1\n  colour: blue\nmqtt:\n  urls: [ftp://x]\noutbox:\n  retention: { maxBytes: lots }\n');
    writeFileSync(join(dir, 'devices/a.yaml'), 'type: modbus-tcp\nport: "502"\nregisters: []\n');
    writeFileSync(join(dir, 'devices/b.yaml'), 'type: [unclosed\n');
    writeFileSync(join(dir, 'devices/c.yaml'), 'type: modbus-tpc\n');
    const p = problems();
    expect(p).toContain('gateway.yaml:3: gateway.colour: unknown key (check spelling; unknown keys are not allowed)');
    expect(p.some((s) => s.startsWith('gateway.yaml:5: mqtt.urls[0]: expected a broker URL'))).toBe(true);
    expect(p.some((s) => s.startsWith('gateway.yaml:7: outbox.retention.maxBytes: expected a size such as 512MB'))).toBe(true);
    expect(p).toContain('devices/a.yaml:1: host: required (string)');
    expect(p).toContain('devices/a.yaml:2: port: expected number');
    expect(p.some((s) => s.startsWith('devices/a.yaml:3: registers:'))).toBe(true);
    expect(p.some((s) => s.startsWith('devices/b.yaml:') && s.includes('YAML'))).toBe(true);
    expect(p.some((s) => s.startsWith('devices/c.yaml:1: type: expected one of barcode-serial, barcode-evdev, camera, gpio, modbus-tcp, modbus-rtu, opcua, serial-line'))).toBe(true);
  });

  it('rejects duplicate device ids and duplicate point names', () => {
    writeFileSync(join(dir, 'devices/copy.yaml'), readFileSync(join(dir, 'devices/parking-counter.yaml'), 'utf8') + 'id: signal-controller\n');
    const f = join(dir, 'devices/parking-counter.yaml');
    writeFileSync(f, readFileSync(f, 'utf8') + '  - { name: level1.free, address: 20, type: uint16 }\n');
    const p = problems();
    expect(p.some((s) => /device id "signal-controller" is already used by devices\/(copy|signal-controller)\.yaml/.test(s))).toBe(true);
    expect(p.some((s) => /parking-counter.yaml:\d+: registers\[3\]\.name: duplicate point name "level1.free"/.test(s))).toBe(true);
  });

  it('checks RS-485 units sharing a port across device files: line settings agree, unit ids unique', () => {
    const unit = (id: number, baud: number) =>
      `type: modbus-rtu\nport: { path: /dev/ttyUSB9, baudRate: ${baud} }\nunitId: ${id}\nregisters: [{ name: v, address: 0, type: uint16 }]\n`;
    writeFileSync(join(dir, 'devices/meter-a.yaml'), unit(1, 9600));
    writeFileSync(join(dir, 'devices/meter-b.yaml'), unit(1, 19200));
    const p = problems();
    expect(p).toContain('devices/meter-b.yaml:2: port.baudRate: /dev/ttyUSB9 is used by device "meter-a" with baudRate 9600; every unit on one bus must use the same line settings');
    expect(p).toContain('devices/meter-b.yaml:3: unitId: unit 1 on /dev/ttyUSB9 is already polled by device "meter-a"');
  });

  it('warns about weak broker transport: tls with a plain mqtt:// URL, and rejectUnauthorized: false', () => {
    const g = join(dir, 'gateway.yaml');
    const original = readFileSync(g, 'utf8');
    expect(loadConfig(dir).warnings).toEqual([]);
    writeFileSync(g, original.replace('  keepalive: 15s', '  keepalive: 15s\n  tls:\n    rejectUnauthorized: false'));
    const warnings = loadConfig(dir).warnings.map(formatProblem);
    expect(warnings).toEqual([
      expect.stringMatching(/^gateway.yaml:\d+: mqtt.tls: tls is set but 1 broker URL\(s\) are plain \(mqtt:\/\/[^)]+\): TLS is NOT used for them and the password is sent in clear; use mqtts:\/\//),
      expect.stringMatching(/^gateway.yaml:\d+: mqtt.tls.rejectUnauthorized: false: the broker's certificate is NOT verified/),
    ]);
  });

  it('reads a camera passwordFile relative to the config directory, as the example and the schema description say', () => {
    const parking = join(import.meta.dirname, '../../config/examples/parking');
    const cam = loadConfig(parking).devices.find((d) => d.id === 'cam-entrance');
    expect(cam?.type).toBe('camera');
    const expected = readFileSync(join(parking, 'secrets/cam-entrance.pw'), 'utf8').split('\n')[0];
    expect(cameraPassword(cam as CameraDeviceConfig)?.reveal()).toBe(expected);
    const device = jsonSchemas()['device.schema.json'] as { oneOf?: Array<{ properties: Record<string, { description?: string }> }>; anyOf?: Array<{ properties: Record<string, { description?: string }> }> };
    const camera = (device.oneOf ?? device.anyOf)!.find((s) => (s.properties.type as { const?: string }).const === 'camera')!;
    expect(camera.properties.passwordFile!.description).toContain('relative to the config directory');
    expect(readFileSync(join(parking, 'devices/cam-entrance.yaml'), 'utf8')).toMatch(/passwordFile: secrets\/cam-entrance\.pw +# relative to the config directory/);
  });

  it('reads the broker password from passwordFile and reports a missing one', () => {
    const g = join(dir, 'gateway.yaml');
    writeFileSync(join(dir, 'pw'), 's3cret\n');
    writeFileSync(g, readFileSync(g, 'utf8').replace('  keepalive: 15s', '  keepalive: 15s\n  passwordFile: pw'));
    chmodSync(join(dir, 'pw'), 0o600);
    expect(loadConfig(dir).secrets.mqttPassword?.reveal()).toBe('s3cret');
    expect(loadConfig(dir).warnings).toEqual([]);
    chmodSync(join(dir, 'pw'), 0o644);
    expect(loadConfig(dir).warnings.map(formatProblem)).toEqual([
      expect.stringMatching(/^gateway.yaml:\d+: mqtt.passwordFile: secret file .*pw is readable by other users/),
    ]);
    // The same for any device's passwordFile (cameras, OPC-UA), relative to the config directory.
    writeFileSync(join(dir, 'cam.pw'), 'x\n', { mode: 0o644 });
    writeFileSync(join(dir, 'devices/cam.yaml'), 'type: camera\nhost: 192.0.2.1\nusername: u\npasswordFile: cam.pw\nprobes: { tcp: { port: 554 } }\n');
    expect(loadConfig(dir).warnings.map(formatProblem)).toContain(`devices/cam.yaml:4: passwordFile: secret file ${join(dir, 'cam.pw')} is readable by other users: chmod 640 (owner root, group edge-gateway) or 600`);
    rmSync(join(dir, 'pw'));
    expect(problems()).toContainEqual(expect.stringMatching(/^gateway.yaml:\d+: mqtt.passwordFile: secret file .*\/pw: file not found$/));
  });

  it('refuses an empty broker password file, as it does a device one', () => {
    const g = join(dir, 'gateway.yaml');
    writeFileSync(join(dir, 'pw'), '\n', { mode: 0o600 });
    writeFileSync(g, readFileSync(g, 'utf8').replace('  keepalive: 15s', '  keepalive: 15s\n  passwordFile: pw'));
    expect(problems()).toContainEqual(expect.stringMatching(new RegExp(`^gateway.yaml:\\d+: mqtt.passwordFile: secret file ${join(dir, 'pw')} is empty`)));
  });

  it('treats private key files as secret files: resolved, checked and warned about whatever the key is called', () => {
    writeFileSync(join(dir, 'user.key'), 'PEM\n', { mode: 0o644 });
    writeFileSync(join(dir, 'client.key'), 'PEM\n', { mode: 0o600 });
    writeFileSync(join(dir, 'mqtt.key'), 'PEM\n', { mode: 0o604 });
    writeFileSync(
      join(dir, 'devices/plc.yaml'),
      'type: opcua\nendpointUrl: opc.tcp://192.0.2.9:4840\nauth:\n  type: certificate\n  certificateFile: user.crt\n  privateKeyFile: user.key\nclientCertificateFile: client.crt\nclientPrivateKeyFile: client.key\nitems:\n  - { nodeId: ns=2;s=Counter, point: counter }\n',
    );
    const g = join(dir, 'gateway.yaml');
    writeFileSync(g, readFileSync(g, 'utf8').replace('  keepalive: 15s', '  keepalive: 15s\n  tls:\n    keyFile: mqtt.key'));
    const config = loadConfig(dir);
    const plc = config.devices.find((d) => d.id === 'plc');
    if (plc?.type !== 'opcua' || plc.auth.type !== 'certificate') throw new Error('expected the OPC-UA device with certificate auth');
    expect(plc.auth.privateKeyFile.path).toBe(join(dir, 'user.key'));
    expect(plc.clientPrivateKeyFile?.path).toBe(join(dir, 'client.key'));
    expect(config.gateway.mqtt.tls?.keyFile?.path).toBe(join(dir, 'mqtt.key'));
    const warnings = config.warnings.map(formatProblem);
    expect(warnings).toContain(`devices/plc.yaml:6: auth.privateKeyFile: secret file ${join(dir, 'user.key')} is readable by other users: chmod 640 (owner root, group edge-gateway) or 600`);
    expect(warnings).toContainEqual(expect.stringMatching(new RegExp(`^gateway.yaml:\\d+: mqtt.tls.keyFile: secret file ${join(dir, 'mqtt.key')} is readable by other users`)));
    expect(warnings.filter((w) => w.includes('client.key'))).toEqual([]);
    rmSync(join(dir, 'client.key'));
    expect(problems()).toContain(`devices/plc.yaml:8: clientPrivateKeyFile: private key file ${join(dir, 'client.key')}: file not found`);
  });

  it('reads secret files relative to the config directory without changing the working directory', () => {
    writeFileSync(join(dir, 'plc.pw'), 'plc-pw\n', { mode: 0o644 });
    writeFileSync(join(dir, 'devices/plc.yaml'), 'type: opcua\nendpointUrl: opc.tcp://192.0.2.9:4840\nauth:\n  type: username\n  username: gw\n  passwordFile: plc.pw\nitems:\n  - { nodeId: ns=2;s=Counter, point: counter }\n');
    const chdir = vi.spyOn(process, 'chdir');
    try {
      const config = loadConfig(dir);
      expect(chdir).not.toHaveBeenCalled();
      const plc = config.devices.find((d) => d.id === 'plc');
      if (plc?.type !== 'opcua' || plc.auth.type !== 'username') throw new Error('expected the OPC-UA device with username auth');
      expect(plc.auth.passwordFile?.reveal()).toBe('plc-pw');
      expect(config.warnings.map(formatProblem)).toContain(`devices/plc.yaml:6: auth.passwordFile: secret file ${join(dir, 'plc.pw')} is readable by other users: chmod 640 (owner root, group edge-gateway) or 600`);
    } finally {
      chdir.mockRestore();
    }
  });

  it('published JSON Schemas match the zod schemas (run `npm run schema` after changing a schema)', () => {
    for (const [name, schema] of Object.entries(jsonSchemas())) {
      const committed = readFileSync(join(import.meta.dirname, '../../config/schema', name), 'utf8');
      expect(committed, `config/schema/${name} is stale`).toBe(renderSchema(schema));
    }
    const payload = readFileSync(join(import.meta.dirname, '../../docs/payload.schema.json'), 'utf8');
    expect(payload, 'docs/payload.schema.json is stale').toBe(renderSchema(payloadSchema()));
  });
});
