import { generateKeyPairSync } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeConfigDir } from '../../../test-rigs/harness/config-dir.js';
import { runCli } from '../../../test-rigs/harness/run-cli.js';
import { loadConfig } from '../../config/load.js';
import type { DoctorReport } from '../doctor.js';
import { checkCommands } from './commands.js';

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

/** One device of each family that can write, and a disabled one that declares a point too. */
const DEVICES = {
  'exit-barrier': { type: 'gpio', outputs: [{ name: 'gate', pin: 23, pulse: { minMs: 100, maxMs: 2000, defaultMs: 800 }, pulseOnly: true }] },
  'sign-plc': {
    type: 'modbus-tcp',
    host: '127.0.0.1',
    port: 1502,
    registers: [{ name: 'program', address: 10, type: 'uint16' }],
    writes: [{ name: 'program', address: 10, type: 'uint16', allowed: [0, 1, 2], requireSignature: false }],
  },
  'plc-south': {
    type: 'opcua',
    endpointUrl: 'opc.tcp://127.0.0.1:4840',
    items: [{ nodeId: 'ns=1;s=Setpoint', point: 'setpoint' }],
    writes: [{ name: 'setpoint', nodeId: 'ns=1;s=Setpoint', dataType: 'Int16', min: -20, max: 40 }],
  },
  spare: { type: 'gpio', enabled: false, outputs: [{ name: 'lamp', pin: 24 }] },
};

function config(commands: Record<string, unknown>, devices: Record<string, Record<string, unknown>> = DEVICES) {
  const c = writeConfigDir({ brokerUrls: ['mqtt://127.0.0.1:1'], gateway: { commands }, devices });
  dirs.push(c.dir);
  const { publicKey } = generateKeyPairSync('ed25519');
  writeFileSync(join(c.dir, 'cc.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  return c;
}

describe('doctor: the command channel', () => {
  it('lists every writable point of every family, and warns when commands are on but unsigned', () => {
    const r = checkCommands(loadConfig(config({ enabled: true }).dir));
    expect(r.status).toBe('warn');
    expect(r.detail).toContain('on: test/test-gw/commands; commands.publicKeys not set: commands are not signed; 3 writable point(s):');
    expect(r.detail).toContain('exit-barrier/gate: pulse, pulse 100-2000 ms, minInterval 1000 ms, read back, unsigned');
    expect(r.detail).toContain('sign-plc/program: write, allowed [0,1,2], minInterval 1000 ms, read back, unsigned');
    expect(r.detail).toContain('plc-south/setpoint: write, range -20..40, minInterval 1000 ms, read back, unsigned');
    expect(r.detail).not.toContain('spare/lamp'); // a disabled device declares nothing
    expect(r.advice).toMatch(/any broker account allowed to publish to test\/test-gw\/commands can move these points: set commands.publicKeys/);
  });

  it('passes with keys set, naming them and the points that need no signature', () => {
    const r = checkCommands(loadConfig(config({ enabled: true, publicKeys: [{ id: 'cc-2026', file: 'cc.pub' }] }).dir));
    expect(r.status).toBe('pass');
    expect(r.detail).toContain('signatures checked with 1 key(s): cc-2026');
    expect(r.detail).toContain('sign-plc/program: write, allowed [0,1,2], minInterval 1000 ms, read back, NO signature required');
    expect(r.detail).toContain('plc-south/setpoint: write, range -20..40, minInterval 1000 ms, read back, signature required');
  });

  it('warns when points are declared but the channel is off, or on with nothing to write; passes when neither', () => {
    const off = checkCommands(loadConfig(config({}).dir));
    expect(off).toMatchObject({ status: 'warn' });
    expect(off.detail).toMatch(/^remote commands off \(commands.enabled: false\), but 3 writable point\(s\)/);
    expect(off.detail).toContain('can still be written by hand: edge-gateway write/pulse, group edge-gateway-actuate');
    expect(off.advice).toMatch(/set commands.enabled: true/);
    const modbusOnly = { 'sign-plc': { ...DEVICES['sign-plc'], writes: [] } };
    const empty = checkCommands(loadConfig(config({ enabled: true }, modbusOnly).dir));
    expect(empty).toMatchObject({ status: 'warn' });
    expect(empty.detail).toContain('no device declares a writable point');
    expect(empty.advice).toMatch(/rejected \(not-declared\)/);
    expect(checkCommands(loadConfig(config({}, modbusOnly).dir))).toMatchObject({ status: 'pass', detail: 'remote commands off (commands.enabled: false); no device declares a writable point' });
  });

  it('is one of the checks edge-gateway doctor runs', async () => {
    const c = config({ enabled: true });
    const r = await runCli(['doctor', '--config', c.dir, '--json', '--no-probe', '--timeout', '500']);
    const report = JSON.parse(r.stdout) as DoctorReport;
    const check = report.checks.find((x) => x.id === 'commands');
    expect(check).toMatchObject({ status: 'warn', title: 'command channel (what commands can move)' });
    expect(check!.detail).toContain('plc-south/setpoint');
  });
});
