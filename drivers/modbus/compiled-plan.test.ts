import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { byteReader, compileRequests, PackedAnswer, allGood } from './compiled-plan.js';
import { blockOf } from './pdu/response.js';
import { compileDecoder } from './decode.js';
import { compileReadPlan } from './plan.js';
import { modbusValueTypes, registerEntrySchema, type RegisterEntry } from './schema.js';

/** The byte readers must decode exactly as decode.ts (the reference) does from the word block. */

const entryArb = fc
  .record({
    type: fc.constantFrom(...modbusValueTypes),
    byteOrder: fc.constantFrom('big' as const, 'little' as const),
    wordOrder: fc.constantFrom('big' as const, 'little' as const),
    scaled: fc.boolean(),
    bit: fc.integer({ min: 0, max: 15 }),
    at: fc.integer({ min: 0, max: 6 }),
  })
  .map(({ type, byteOrder, wordOrder, scaled, bit, at }) => {
    const r = registerEntrySchema.parse({
      name: 'p',
      address: at,
      type,
      byteOrder,
      wordOrder,
      ...(type === 'bit' ? { bit } : {}),
      ...(scaled && type !== 'bool' && type !== 'bit' ? { scale: 0.1, offset: -3 } : {}),
    });
    return { r, at };
  });

describe('compiled plan byte readers', () => {
  it('agree with decode.ts for every type, byte/word order, scale and position', () => {
    fc.assert(
      fc.property(entryArb, fc.uint8Array({ minLength: 24, maxLength: 24 }), ({ r, at }, bytes) => {
        const data = Buffer.from(bytes);
        const words = Array.from({ length: 12 }, (_, i) => data.readUInt16BE(i * 2));
        const ref = compileDecoder(r, at)(words);
        const got = byteReader(r, at)(data);
        if (ref.quality === 'bad') expect(typeof got === 'number' && !Number.isFinite(got)).toBe(true);
        else expect(got).toBe(ref.value);
      }),
      { numRuns: 2000 },
    );
  });

  it('reads coils and discrete inputs from packed bits as decode.ts does from the bit block', () => {
    const registers: RegisterEntry[] = [0, 1, 7, 8, 13].map((a) => registerEntrySchema.parse({ name: `c${a}`, table: 'coil', address: a, type: 'bool' }));
    const plan = compileReadPlan(registers, { maxRegistersPerRequest: 125, maxGap: 10 });
    const [c] = compileRequests(plan, registers);
    const data = Buffer.from([0b10000010, 0b00100001]);
    const block = blockOf(c!.request.table, c!.request.count, data);
    const answer = new PackedAnswer(c!, data, 1);
    c!.request.points.forEach((p, i) => expect(answer.value(i)).toBe(p.decode(block).value));
    expect([...Array(answer.count).keys()].map((i) => answer.value(i))).toEqual([false, true, true, true, true]);
  });

  it('allGood is false only when a float (or scaled) point decodes to a non-finite value', () => {
    const registers = [registerEntrySchema.parse({ name: 'f', address: 0, type: 'float32' }), registerEntrySchema.parse({ name: 'u', address: 2, type: 'uint16' })];
    const [c] = compileRequests(compileReadPlan(registers, { maxRegistersPerRequest: 125, maxGap: 0 }), registers);
    const nan = Buffer.from([0x7f, 0xc0, 0, 0, 0, 1]);
    const ok = Buffer.from([0x3f, 0xc0, 0, 0, 0, 1]);
    expect(allGood(c!, nan)).toBe(false);
    expect(allGood(c!, ok)).toBe(true);
    const intsOnly = [registerEntrySchema.parse({ name: 'u', address: 0, type: 'uint16' })];
    const [ci] = compileRequests(compileReadPlan(intsOnly, { maxRegistersPerRequest: 125, maxGap: 0 }), intsOnly);
    expect(ci!.mayBeBad).toBe(false);
  });
});
