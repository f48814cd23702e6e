import { describe, expect, it } from 'vitest';
import { compileReadPlan, PlanError } from './plan.js';
import { registerEntrySchema, type RegisterEntry } from './schema.js';

const reg = (r: Record<string, unknown>): RegisterEntry => registerEntrySchema.parse(r);
const shape = (plan: ReturnType<typeof compileReadPlan>) =>
  plan.requests.map((q) => ({ table: q.table, address: q.address, count: q.count, points: q.points.map((p) => p.name) }));

describe('compileReadPlan', () => {
  it('coalesces adjacent registers of one table into one request', () => {
    const plan = compileReadPlan(
      [
        reg({ name: 'b', address: 1, type: 'float32' }),
        reg({ name: 'a', address: 0, type: 'uint16' }),
        reg({ name: 'c', address: 3, type: 'int16' }),
      ],
      { maxRegistersPerRequest: 125, maxGap: 0 },
    );
    expect(shape(plan)).toEqual([{ table: 'holding', address: 0, count: 4, points: ['a', 'b', 'c'] }]);
    expect(plan.pointNames).toEqual(['b', 'a', 'c']);
  });

  it('bridges gaps up to maxGap and no further', () => {
    const regs = [reg({ name: 'a', address: 0, type: 'uint16' }), reg({ name: 'b', address: 5, type: 'uint16' })];
    expect(shape(compileReadPlan(regs, { maxRegistersPerRequest: 125, maxGap: 4 }))).toEqual([
      { table: 'holding', address: 0, count: 6, points: ['a', 'b'] },
    ]);
    expect(shape(compileReadPlan(regs, { maxRegistersPerRequest: 125, maxGap: 3 }))).toHaveLength(2);
  });

  it('splits at maxRegistersPerRequest without splitting a value', () => {
    const regs = [0, 2, 4, 6].map((a) => reg({ name: `f${a}`, address: a, type: 'float32' }));
    expect(shape(compileReadPlan(regs, { maxRegistersPerRequest: 5, maxGap: 0 }))).toEqual([
      { table: 'holding', address: 0, count: 4, points: ['f0', 'f2'] },
      { table: 'holding', address: 4, count: 4, points: ['f4', 'f6'] },
    ]);
  });

  it('keeps tables apart and overlapping views in one read', () => {
    const plan = compileReadPlan(
      [
        reg({ name: 'word', address: 10, type: 'uint16' }),
        reg({ name: 'bit3', address: 10, type: 'bit', bit: 3 }),
        reg({ name: 'in', table: 'input', address: 10, type: 'uint16' }),
        reg({ name: 'c0', table: 'coil', address: 0, type: 'bool' }),
        reg({ name: 'c1999', table: 'coil', address: 1999, type: 'bool' }),
        reg({ name: 'c2000', table: 'coil', address: 2000, type: 'bool' }),
      ],
      { maxRegistersPerRequest: 125, maxGap: 2000 },
    );
    expect(shape(plan)).toEqual([
      { table: 'holding', address: 10, count: 1, points: ['word', 'bit3'] },
      { table: 'input', address: 10, count: 1, points: ['in'] },
      { table: 'coil', address: 0, count: 2000, points: ['c0', 'c1999'] },
      { table: 'coil', address: 2000, count: 1, points: ['c2000'] },
    ]);
  });

  it('compiled decoders read at their offset in the block', () => {
    const plan = compileReadPlan(
      [reg({ name: 'a', address: 100, type: 'uint16' }), reg({ name: 'b', address: 101, type: 'int32' })],
      { maxRegistersPerRequest: 125, maxGap: 0 },
    );
    const [a, b] = plan.requests[0]!.points;
    const block = [7, 0xffff, 0xfff6];
    expect(a!.decode(block).value).toBe(7);
    expect(b!.decode(block).value).toBe(-10);
  });

  it('refuses a value wider than one request with a coded error', () => {
    expect(() => compileReadPlan([reg({ name: 'x', address: 0, type: 'float64' })], { maxRegistersPerRequest: 2, maxGap: 0 })).toThrow(PlanError);
  });
});
