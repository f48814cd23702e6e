import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { compileDecoder } from './decode.js';
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

describe('register order shorthand (order: ABCD|CDAB|BADC|DCBA)', () => {
  const reg = (r: Record<string, unknown>) => modbusTcpDeviceSchema.parse({ ...base, registers: [{ name: 'v', address: 0, ...r }] }).registers[0]!;
  const decode = (r: Record<string, unknown>, words: number[]) => compileDecoder(reg(r), 0)(words).value;

  it('sets the two switches the way the README table says', () => {
    expect(reg({ type: 'float32', order: 'ABCD' })).toMatchObject({ byteOrder: 'big', wordOrder: 'big' });
    expect(reg({ type: 'float32', order: 'CDAB' })).toMatchObject({ byteOrder: 'big', wordOrder: 'little' });
    expect(reg({ type: 'float32', order: 'BADC' })).toMatchObject({ byteOrder: 'little', wordOrder: 'big' });
    expect(reg({ type: 'float32', order: 'DCBA' })).toMatchObject({ byteOrder: 'little', wordOrder: 'little' });
    expect(reg({ type: 'float32', order: 'CDAB' })).not.toHaveProperty('order');
  });

  it('reads float32 21.5 (0x41AC0000) from the bytes each name describes', () => {
    expect(decode({ type: 'float32', order: 'ABCD' }, [0x41ac, 0x0000])).toBe(21.5);
    expect(decode({ type: 'float32', order: 'CDAB' }, [0x0000, 0x41ac])).toBe(21.5);
    expect(decode({ type: 'float32', order: 'BADC' }, [0xac41, 0x0000])).toBe(21.5);
    expect(decode({ type: 'float32', order: 'DCBA' }, [0x0000, 0xac41])).toBe(21.5);
  });

  it('means for 64-bit what manuals mean: CDAB = GHEFCDAB (low word first), DCBA = HGFEDCBA', () => {
    // 1.5 as float64 = 3FF8 0000 0000 0000: bytes AB CD EF GH = 3F F8 00 00 00 00 00 00.
    expect(decode({ type: 'float64', order: 'ABCD' }, [0x3ff8, 0, 0, 0])).toBe(1.5);
    expect(decode({ type: 'float64', order: 'CDAB' }, [0, 0, 0, 0x3ff8])).toBe(1.5);
    expect(decode({ type: 'float64', order: 'BADC' }, [0xf83f, 0, 0, 0])).toBe(1.5);
    expect(decode({ type: 'float64', order: 'DCBA' }, [0, 0, 0, 0xf83f])).toBe(1.5);
    const bytes = new DataView(new ArrayBuffer(8));
    bytes.setFloat64(0, 123456.789);
    const [ab, cd, ef, gh] = [0, 2, 4, 6].map((i) => bytes.getUint16(i));
    expect(decode({ type: 'float64', order: 'CDAB' }, [gh!, ef!, cd!, ab!])).toBe(123456.789);
  });

  it('for 16-bit types only the byte order counts: ABCD/CDAB read AB, BADC/DCBA read BA', () => {
    expect(decode({ type: 'uint16', order: 'ABCD' }, [0x0102])).toBe(0x0102);
    expect(decode({ type: 'uint16', order: 'CDAB' }, [0x0102])).toBe(0x0102);
    expect(decode({ type: 'uint16', order: 'BADC' }, [0x0102])).toBe(0x0201);
    expect(decode({ type: 'int16', order: 'DCBA' }, [0x00ff])).toBe(-256);
  });

  it('accepts switches that agree with order, and says which one disagrees and what order means', () => {
    expect(reg({ type: 'int32', order: 'CDAB', wordOrder: 'little' })).toMatchObject({ byteOrder: 'big', wordOrder: 'little' });
    expect(issues({ ...base, registers: [{ name: 'v', address: 0, type: 'int32', order: 'CDAB', byteOrder: 'little' }] })).toContainEqual({
      path: 'registers.0.byteOrder',
      message: 'order CDAB means byteOrder big, wordOrder little, but byteOrder is little; give order or the two switches, not both disagreeing',
    });
    expect(issues({ ...base, registers: [{ name: 'v', address: 0, type: 'int32', order: 'cdab' }] })).toContainEqual({
      path: 'registers.0.order',
      message: 'expected one of ABCD, CDAB, BADC, DCBA',
    });
  });
});
