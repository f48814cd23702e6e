import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { modbusTcpDeviceSchema } from './schema.js';

const base = { id: 'plc-1', type: 'modbus-tcp', host: '127.0.0.1', registers: [{ name: 'a', address: 0, type: 'uint16' }] };
const issues = (input: unknown) => {
  const r = modbusTcpDeviceSchema.safeParse(input);
  expect(r.success).toBe(false);
  return r.error!.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
};

describe('modbusTcpDeviceSchema', () => {
  it('fills defaults', () => {
    const d = modbusTcpDeviceSchema.parse(base);
    expect(d).toMatchObject({ port: 502, unitId: 1, intervalMs: 1000, timeoutMs: 1000, maxRegistersPerRequest: 125, maxGap: 0, enabled: true });
    expect(d.registers[0]).toEqual({ name: 'a', table: 'holding', address: 0, type: 'uint16', byteOrder: 'big', wordOrder: 'big', scale: 1, offset: 0 });
  });

  it('lists the allowed types in enum errors', () => {
    expect(issues({ ...base, registers: [{ name: 'a', address: 0, type: 'float' }] })).toContainEqual({
      path: 'registers.0.type',
      message: 'expected one of int16, uint16, int32, uint32, float32, float64, bool, bit',
    });
    expect(issues({ ...base, registers: [{ name: 'a', table: 'holdings', address: 0, type: 'uint16' }] })).toContainEqual({
      path: 'registers.0.table',
      message: 'expected one of holding, input, coil, discrete',
    });
  });

  it('reports the path of a duplicate point name', () => {
    const r = issues({ ...base, registers: [...base.registers, { name: 'b', address: 1, type: 'uint16' }, { name: 'a', address: 2, type: 'int16' }] });
    expect(r).toContainEqual({ path: 'registers.2.name', message: 'duplicate point name "a" (first used at registers[0])' });
  });

  it('rejects unknown keys at device and register level', () => {
    expect(issues({ ...base, pollMs: 5 }).map((i) => i.message).join()).toMatch(/pollMs/);
    expect(issues({ ...base, registers: [{ name: 'a', address: 0, type: 'uint16', scal: 2 }] }).map((i) => i.message).join()).toMatch(/scal/);
  });

  it('checks type against table, bit, and address range', () => {
    expect(issues({ ...base, registers: [{ name: 'c', table: 'coil', address: 0, type: 'uint16' }] })).toContainEqual({
      path: 'registers.0.type',
      message: 'the coil table holds single bits: type must be bool, not uint16',
    });
    expect(issues({ ...base, registers: [{ name: 'b', address: 0, type: 'bit' }] })).toContainEqual({
      path: 'registers.0.bit',
      message: 'type bit needs bit: 0..15',
    });
    expect(issues({ ...base, registers: [{ name: 'f', address: 65535, type: 'float32' }] })[0]!.path).toBe('registers.0.address');
    expect(issues({ ...base, maxRegistersPerRequest: 2, registers: [{ name: 'f', address: 0, type: 'float64' }] })).toContainEqual({
      path: 'registers.0.type',
      message: 'float64 spans 4 registers but maxRegistersPerRequest is 2',
    });
  });

  it('checks numeric bounds', () => {
    expect(issues({ ...base, unitId: 256 })[0]!.path).toBe('unitId');
    expect(issues({ ...base, intervalMs: 5 })[0]!.path).toBe('intervalMs');
    expect(issues({ ...base, maxRegistersPerRequest: 126 })[0]!.path).toBe('maxRegistersPerRequest');
    expect(issues({ ...base, registers: [] })[0]!.path).toBe('registers');
  });

  it('is usable as a discriminated union member (stays a ZodObject)', () => {
    const u = z.discriminatedUnion('type', [modbusTcpDeviceSchema]);
    expect(u.parse(base).type).toBe('modbus-tcp');
  });
});
