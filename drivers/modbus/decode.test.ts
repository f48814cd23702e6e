import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileDecoder } from './decode.js';
import { encodeRegisters } from './encode.js';
import { modbusValueTypes, type DecodeOptions, type ModbusValueType } from './schema.js';

const opts = (o: Partial<DecodeOptions> & { type: ModbusValueType }): DecodeOptions => ({
  table: 'holding',
  byteOrder: 'big',
  wordOrder: 'big',
  scale: 1,
  offset: 0,
  ...o,
});
const decode = (o: Partial<DecodeOptions> & { type: ModbusValueType }, words: Array<number | boolean>, at = 0) =>
  compileDecoder(opts(o), at)(words);

describe('decode: known vectors', () => {
  it.each([
    // [type, byteOrder, wordOrder, words, expected]
    ['float32', 'big', 'big', [0x3fc0, 0x0000], 1.5],
    ['float32', 'big', 'little', [0x0000, 0x3fc0], 1.5],
    ['float32', 'little', 'big', [0xc03f, 0x0000], 1.5],
    ['float32', 'little', 'little', [0x0000, 0xc03f], 1.5],
    ['float32', 'big', 'big', [0xc2f6, 0xe979], -123.456],
    ['uint32', 'big', 'big', [0x1234, 0x5678], 0x12345678],
    ['uint32', 'big', 'little', [0x5678, 0x1234], 0x12345678],
    ['uint32', 'little', 'big', [0x3412, 0x7856], 0x12345678],
    ['uint32', 'little', 'little', [0x7856, 0x3412], 0x12345678],
    ['int32', 'big', 'big', [0xffff, 0xfffe], -2],
    ['int32', 'big', 'little', [0xfffe, 0xffff], -2],
    ['int32', 'big', 'big', [0x8000, 0x0000], -2147483648],
    ['uint32', 'big', 'big', [0xffff, 0xffff], 4294967295],
    ['float64', 'big', 'big', [0x3ff0, 0, 0, 0], 1],
    ['float64', 'big', 'little', [0, 0, 0, 0x3ff0], 1],
    ['float64', 'little', 'big', [0xf03f, 0, 0, 0], 1],
    ['float64', 'big', 'big', [0x4009, 0x21fb, 0x5444, 0x2d18], Math.PI],
    ['int16', 'big', 'big', [0xffff], -1],
    ['int16', 'big', 'big', [0x8000], -32768],
    ['int16', 'big', 'big', [0x7fff], 32767],
    ['int16', 'little', 'big', [0x00ff], -256],
    ['uint16', 'big', 'big', [0xffff], 65535],
    ['uint16', 'little', 'big', [0x3412], 0x1234],
  ] as const)('%s %s-bytes %s-words %j -> %d', (type, byteOrder, wordOrder, words, expected) => {
    const d = decode({ type, byteOrder, wordOrder }, [...words]);
    expect(d.quality).toBe('good');
    // A float32 comes out as the shortest decimal that is the same float32: -123.456, not -123.45600128173828.
    expect(d.value).toBe(expected);
  });

  it('reads at the point offset inside a block', () => {
    expect(decode({ type: 'float32' }, [0xdead, 0xbeef, 0x3fc0, 0x0000, 0xffff], 2).value).toBe(1.5);
    expect(decode({ type: 'int16' }, [1, 2, 0xfffd], 2).value).toBe(-3);
  });

  it('applies scale then offset', () => {
    expect(decode({ type: 'int16', scale: 0.1, offset: 5 }, [0xff9c]).value).toBeCloseTo(-5, 10);
    expect(decode({ type: 'uint16', scale: 2 }, [21]).value).toBe(42);
    expect(decode({ type: 'float32', offset: -273.15 }, [0x4396, 0x0000]).value).toBeCloseTo(26.85, 4);
  });

  it('bool on registers is "not zero"; bit picks one bit', () => {
    expect(decode({ type: 'bool' }, [0]).value).toBe(false);
    expect(decode({ type: 'bool' }, [0x0100]).value).toBe(true);
    expect(decode({ type: 'bit', bit: 3 }, [0b1000]).value).toBe(true);
    expect(decode({ type: 'bit', bit: 2 }, [0b1000]).value).toBe(false);
    expect(decode({ type: 'bit', bit: 15 }, [0x8000]).value).toBe(true);
  });

  it('coil and discrete tables decode bits', () => {
    expect(decode({ type: 'bool', table: 'coil' }, [false, true], 1)).toEqual({ value: true, quality: 'good' });
    expect(decode({ type: 'bool', table: 'discrete' }, [false, true], 0)).toEqual({ value: false, quality: 'good' });
  });

  it('NaN and infinities are bad with a null value (not representable in JSON, "no data" on meters)', () => {
    expect(decode({ type: 'float32' }, [0x7fc0, 0x0000])).toEqual({ value: null, quality: 'bad' });
    expect(decode({ type: 'float32' }, [0x7f80, 0x0000])).toEqual({ value: null, quality: 'bad' });
    expect(decode({ type: 'float32' }, [0xff80, 0x0000])).toEqual({ value: null, quality: 'bad' });
    expect(decode({ type: 'float64' }, [0x7ff8, 0, 0, 0])).toEqual({ value: null, quality: 'bad' });
  });

  it('scaling past the finite range is bad, not Infinity', () => {
    expect(decode({ type: 'float64', scale: 1e300 }, [0x7fef, 0xffff, 0xffff, 0xffff]).quality).toBe('bad');
  });

  it('a block shorter than the point is bad, not a throw', () => {
    expect(decode({ type: 'float32' }, [0x3fc0])).toEqual({ value: null, quality: 'bad' });
    expect(decode({ type: 'uint16' }, [1], 1)).toEqual({ value: null, quality: 'bad' });
    expect(decode({ type: 'bool', table: 'coil' }, [], 0)).toEqual({ value: null, quality: 'bad' });
  });
});

const arbOptions = fc.record({
  table: fc.constantFrom('holding' as const, 'input' as const),
  type: fc.constantFrom(...modbusValueTypes),
  bit: fc.integer({ min: 0, max: 15 }),
  byteOrder: fc.constantFrom('big' as const, 'little' as const),
  wordOrder: fc.constantFrom('big' as const, 'little' as const),
  scale: fc.double({ noNaN: true, noDefaultInfinity: true }),
  offset: fc.double({ noNaN: true, noDefaultInfinity: true }),
});

describe('decode: properties', () => {
  it('never throws on arbitrary block content, and good always means a finite value', () => {
    const junk = fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer(), fc.double(), fc.boolean());
    fc.assert(
      fc.property(arbOptions, fc.array(junk, { maxLength: 8 }), fc.nat(8), (o, block, at) => {
        const d = compileDecoder(o, at)(block);
        if (d.quality === 'good') {
          expect(typeof d.value === 'boolean' || Number.isFinite(d.value)).toBe(true);
        } else {
          expect(d.value).toBeNull();
        }
      }),
      { numRuns: 2000 },
    );
  });

  const valueFor: Record<ModbusValueType, fc.Arbitrary<number | boolean>> = {
    int16: fc.integer({ min: -32768, max: 32767 }),
    uint16: fc.integer({ min: 0, max: 0xffff }),
    int32: fc.integer({ min: -2147483648, max: 2147483647 }),
    uint32: fc.integer({ min: 0, max: 0xffffffff }),
    float32: fc.float({ noNaN: true, noDefaultInfinity: true }).map(Math.fround),
    float64: fc.double({ noNaN: true, noDefaultInfinity: true }),
    bool: fc.boolean(),
    bit: fc.boolean(),
  };

  for (const type of modbusValueTypes) {
    it(`encode -> decode round trip: ${type}`, () => {
      fc.assert(
        fc.property(valueFor[type], arbOptions, (value, o) => {
          const spec = opts({ type, bit: o.bit, byteOrder: o.byteOrder, wordOrder: o.wordOrder });
          const words = encodeRegisters(spec, value);
          for (const w of words) {
            expect(Number.isInteger(w) && w >= 0 && w <= 0xffff, `word ${w}`).toBe(true);
          }
          const d = compileDecoder(spec, 0)(words);
          expect(d.quality).toBe('good');
          // -0 and 0 are the same reading; a float32 comes back as its shortest decimal, the same float32
          const got = type === 'float32' ? Math.fround(d.value as number) : d.value;
          expect(got === value || (got === 0 && value === 0)).toBe(true);
        }),
        { numRuns: 500 },
      );
    });
  }
});
