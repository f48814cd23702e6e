import { afterEach, describe, expect, it } from 'vitest';
import { recordingContext, waitFor } from '../../test-rigs/driver-contract.js';
import { startModbusTcpSimulator, type ModbusTcpSimulator } from '../../test-rigs/modbus-sim/server.js';
import type { Driver } from '../driver.js';
import { WriteRefused } from '../writable-point.js';
import { modbusTcpDriver } from './module.js';
import { modbusTcpDeviceSchema } from './schema.js';
import { createModbusTcpDriver } from './tcp-driver.js';

/**
 * Writable points through the real TCP driver and transport to the simulator. The raw words the
 * simulator holds afterwards are checked against vectors written out by hand (from the IEEE 754
 * and two's complement encodings), never against the driver's own encoder.
 */
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const WRITES = [
  { name: 'u16', address: 0, type: 'uint16' },
  { name: 'i16', address: 1, type: 'int16' },
  { name: 'i32.abcd', address: 10, type: 'int32', order: 'ABCD' },
  { name: 'i32.cdab', address: 12, type: 'int32', order: 'CDAB' },
  { name: 'i32.badc', address: 14, type: 'int32', order: 'BADC' },
  { name: 'i32.dcba', address: 16, type: 'int32', order: 'DCBA' },
  { name: 'u32', address: 20, type: 'uint32' },
  { name: 'f32.abcd', address: 30, type: 'float32', order: 'ABCD' },
  { name: 'f32.cdab', address: 32, type: 'float32', order: 'CDAB' },
  { name: 'f32.badc', address: 34, type: 'float32', order: 'BADC' },
  { name: 'f32.dcba', address: 36, type: 'float32', order: 'DCBA' },
  { name: 'f64.abcd', address: 40, type: 'float64' },
  { name: 'f64.cdab', address: 44, type: 'float64', order: 'CDAB' },
  { name: 'setpoint', address: 50, type: 'int16', scale: 0.1, min: -40, max: 60 },
  { name: 'flag', address: 51, type: 'bool' },
  { name: 'gate', table: 'coil', address: 3, type: 'bool', pulse: { minMs: 20, maxMs: 2000, defaultMs: 100 } },
];

// value written -> the registers a device holding it has, by hand.
const VECTORS: Array<[string, number | boolean, number[]]> = [
  ['u16', 1234, [0x04d2]],
  ['i16', -2, [0xfffe]],
  ['i32.abcd', -123456, [0xfffe, 0x1dc0]], // -123456 = 0xFFFE1DC0
  ['i32.cdab', -123456, [0x1dc0, 0xfffe]],
  ['i32.badc', -123456, [0xfeff, 0xc01d]],
  ['i32.dcba', -123456, [0xc01d, 0xfeff]],
  ['u32', 3_000_000_000, [0xb2d0, 0x5e00]], // 0xB2D05E00
  ['f32.abcd', 21.5, [0x41ac, 0x0000]], // 21.5 = 0x41AC0000
  ['f32.cdab', 21.5, [0x0000, 0x41ac]],
  ['f32.badc', 21.5, [0xac41, 0x0000]],
  ['f32.dcba', 21.5, [0x0000, 0xac41]],
  ['f64.abcd', -2.5, [0xc004, 0, 0, 0]], // -2.5 = 0xC004000000000000
  ['f64.cdab', -2.5, [0, 0, 0, 0xc004]],
  ['setpoint', -21.5, [0xff29]], // raw -215
  ['flag', true, [0x0001]],
];

async function start(): Promise<{ sim: ModbusTcpSimulator; driver: Driver }> {
  const sim = await startModbusTcpSimulator({ units: [1], clock: 'manual' });
  cleanups.push(() => sim.stop());
  const config = modbusTcpDeviceSchema.parse({ id: 'plc', type: 'modbus-tcp', host: sim.host, port: sim.port, intervalMs: 50, timeoutMs: 300, registers: [{ name: 'r0', address: 0, type: 'uint16' }], writes: WRITES });
  const rec = recordingContext('plc');
  const driver = createModbusTcpDriver(config, rec.ctx);
  cleanups.push(() => driver.stop());
  await driver.start();
  await waitFor('a first poll', () => rec.readings().length > 0);
  return { sim, driver };
}

describe('modbus writable points (TCP, against the simulator)', () => {
  it('writes every type and order as the hand-made register vectors, and reads each back equal', async () => {
    const { sim, driver } = await start();
    for (const [point, value, words] of VECTORS) {
      const w = WRITES.find((x) => x.name === point)!;
      const result = await driver.write!(point, { action: 'write', value });
      expect(Array.from(sim.unit(1).holding.subarray(w.address, w.address + words.length)), point).toEqual(words);
      expect(result, point).toEqual({ readBack: value, expected: value });
    }
  });

  it('writes a coil and pulses it: on for the duration, then off', async () => {
    const { sim, driver } = await start();
    expect(await driver.write!('gate', { action: 'write', value: true })).toEqual({ readBack: true, expected: true });
    expect(sim.unit(1).coil[3]).toBe(1);
    await driver.write!('gate', { action: 'write', value: false });
    const pulse = driver.write!('gate', { action: 'pulse', durationMs: 300 });
    await waitFor('the coil on', () => sim.unit(1).coil[3] === 1, 1000);
    await pulse;
    expect(sim.unit(1).coil[3]).toBe(0);
  });

  it('refuses what a register cannot hold exactly, before anything is sent', async () => {
    const { sim, driver } = await start();
    const refused = async (point: string, value: number) => {
      try {
        await driver.write!(point, { action: 'write', value });
      } catch (err) {
        expect(err).toBeInstanceOf(WriteRefused);
        return `${(err as WriteRefused).code}: ${(err as Error).message}`;
      }
      throw new Error(`${point} = ${value} was written`);
    };
    expect(await refused('setpoint', 21.55)).toMatch(/^not-representable: 21.55 is not a whole number of steps of 0.1/);
    expect(await refused('u16', 70_000)).toMatch(/^out-of-range: raw 70000 is outside uint16/);
    expect(await refused('i16', -40_000)).toMatch(/^out-of-range/);
    expect(await refused('u32', -1)).toMatch(/^out-of-range/);
    expect(await refused('f32.abcd', 1e39)).toMatch(/^out-of-range: 1e\+39 is beyond float32/);
    expect(Array.from(sim.unit(1).holding.subarray(0, 60)).every((x) => x === 0)).toBe(true);
  });

  it('reads back what the device holds, not what was sent: a controller that limits its setpoint', async () => {
    const { sim, driver } = await start();
    sim.unit(1).clampHolding(50, 500); // the device keeps at most raw 500 = 50.0
    expect(await driver.write!('setpoint', { action: 'write', value: 55 })).toEqual({ readBack: 50, expected: 55 });
    expect(await driver.write!('setpoint', { action: 'write', value: 45 })).toEqual({ readBack: 45, expected: 45 });
  });

  it('declares its writable points, with the family check of exactness', () => {
    const config = modbusTcpDeviceSchema.parse({ id: 'plc', type: 'modbus-tcp', host: 'h', registers: [{ name: 'r0', address: 0, type: 'uint16' }], writes: WRITES });
    const points = modbusTcpDriver.writablePoints(config);
    const setpoint = points.find((p) => p.policy.name === 'setpoint')!;
    expect(setpoint.validate!({ action: 'write', value: 21.55 })).toMatch(/^not-representable/);
    expect(setpoint.validate!({ action: 'write', value: 21.5 })).toBeNull();
    expect(points.find((p) => p.policy.name === 'gate')).toMatchObject({ actions: ['write', 'pulse'], valueType: 'boolean', pulse: { defaultMs: 100 } });
  });

  it('refuses writable points that cannot be written as declared', () => {
    const problem = (w: Record<string, unknown>) =>
      modbusTcpDeviceSchema.safeParse({ id: 'plc', type: 'modbus-tcp', host: 'h', registers: [{ name: 'r0', address: 0, type: 'uint16' }], writes: [w] }).error?.issues.map((i) => i.message).join('; ');
    expect(problem({ name: 'x', table: 'coil', address: 0, type: 'uint16' })).toMatch(/a coil holds one bit/);
    expect(problem({ name: 'x', table: 'input', address: 0 })).toMatch(/holding|coil/);
    expect(problem({ name: 'x', address: 0, pulse: {} })).toMatch(/pulse applies to coils only/);
    expect(problem({ name: 'x', address: 65535, type: 'float32' })).toMatch(/past register 65535/);
  });
});
