import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, formatProblem, loadConfig } from '../../gateway/config/load.js';
import { writeConfigDir } from '../../test-rigs/harness/config-dir.js';
import { modbusRtuDeviceSchema } from './schema.js';

/** The modbus-rtu device file, through the real config loader as a maintainer would write it. */

const EXAMPLE = `# One unit on the RS-485 bus of the cabinet; every unit on this port uses the same port block.
type: modbus-rtu
description: Energy meter, cabinet A
port:
  path: /dev/serial/by-id/usb-FTDI_USB-RS485_Cable_FT1234AB-if00-port0
  baudRate: 19200
  parity: even
  dataBits: 8
  stopBits: 1
unitId: 12
intervalMs: 1000
timeoutMs: 300
breaker:
  failureThreshold: 3
  minBackoffMs: 1000
  maxBackoffMs: 30000
registers:
  - { name: voltage.l1, table: input, address: 0, type: float32, unit: V }
  - { name: energy.total, table: input, address: 342, type: uint32, wordOrder: little, scale: 0.01, unit: kWh }
  - { name: breaker.tripped, table: discrete, address: 4, type: bool }
`;

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

function load(deviceYaml: string) {
  const c = writeConfigDir({ brokerUrls: ['mqtt://127.0.0.1:1883'] });
  dirs.push(c.dir);
  writeFileSync(join(c.dir, 'devices', 'meter-a.yaml'), deviceYaml);
  return loadConfig(c.dir);
}

function problems(deviceYaml: string): string[] {
  try {
    load(deviceYaml);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map(formatProblem);
    throw err;
  }
  throw new Error('expected the config to be invalid');
}

describe('modbus-rtu device config', () => {
  it('the README example loads, with the file name as id and defaults filled in', () => {
    const [d] = load(EXAMPLE).devices;
    expect(d).toMatchObject({
      id: 'meter-a',
      type: 'modbus-rtu',
      unitId: 12,
      port: { baudRate: 19200, parity: 'even', reopen: { initialDelayMs: 500, maxDelayMs: 30_000 } },
      maxRegistersPerRequest: 125,
    });
  });

  it('unitId is required and limited to 1..247 (0 is broadcast and never answers)', () => {
    const noUnit = EXAMPLE.replace('unitId: 12\n', '');
    expect(problems(noUnit).join('\n')).toMatch(/meter-a\.yaml.*unitId/);
    expect(problems(EXAMPLE.replace('unitId: 12', 'unitId: 0')).join('\n')).toMatch(/meter-a\.yaml:\d+: unitId:/);
    expect(problems(EXAMPLE.replace('unitId: 12', 'unitId: 248')).join('\n')).toMatch(/unitId/);
  });

  it('rejects unknown keys, a relative port path, and a backoff range upside down', () => {
    expect(problems(EXAMPLE.replace('intervalMs: 1000', 'intervalMs: 1000\nhost: 10.0.0.5')).join('\n')).toMatch(/host/);
    expect(problems(EXAMPLE.replace('/dev/serial/by-id/', 'ttyUSB0-')).join('\n')).toMatch(/port\.path.*absolute device path/);
    expect(problems(EXAMPLE.replace('maxBackoffMs: 30000', 'maxBackoffMs: 10')).join('\n')).toMatch(/breaker\.maxBackoffMs.*>= minBackoffMs/);
  });

  it('breaker defaults: 3 timeouts, 1 s doubling to 30 s', () => {
    const d = modbusRtuDeviceSchema.parse({
      id: 'x',
      type: 'modbus-rtu',
      port: { path: '/dev/ttyUSB0' },
      unitId: 1,
      registers: [{ name: 'a', address: 0, type: 'uint16' }],
    });
    expect(d.breaker).toEqual({ failureThreshold: 3, minBackoffMs: 1000, maxBackoffMs: 30_000 });
    expect(d.port).toMatchObject({ baudRate: 9600, parity: 'none', dataBits: 8, stopBits: 1 });
  });
});
