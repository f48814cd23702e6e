import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RangeSet } from './range-set.js';

describe('RangeSet', () => {
  it('merges overlapping and adjacent ranges and counts what was already present', () => {
    const s = new RangeSet();
    expect(s.add(5, 9)).toBe(0);
    expect(s.add(1, 2)).toBe(0);
    expect(s.ranges()).toEqual([[1, 2], [5, 9]]);
    expect(s.add(3, 4)).toBe(0); // touches both neighbours
    expect(s.ranges()).toEqual([[1, 9]]);
    expect(s.add(8, 12)).toBe(2);
    expect(s.ranges()).toEqual([[1, 12]]);
    expect(s.size).toBe(12);
  });

  it('reports the holes inside a window', () => {
    const s = new RangeSet();
    s.add(3, 4);
    s.add(8, 8);
    expect(s.missingIn(1, 10)).toEqual([[1, 2], [5, 7], [9, 10]]);
    expect(s.missingIn(3, 4)).toEqual([]);
    expect(new RangeSet().missingIn(1, 3)).toEqual([[1, 3]]);
  });

  it('rejects non-integer or inverted ranges with a RangeError naming them', () => {
    expect(() => new RangeSet().add(5, 4)).toThrow(/\[5, 4\]/);
    expect(() => new RangeSet().add(1.5)).toThrow(RangeError);
  });

  it('agrees with a plain Set for any sequence of additions', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 20 }))), (adds) => {
        const s = new RangeSet();
        const model = new Set<number>();
        for (const [from, len] of adds) {
          let before = 0;
          for (let n = from; n <= from + len; n++) {
            if (model.has(n)) before++;
            model.add(n);
          }
          expect(s.add(from, from + len)).toBe(before);
        }
        expect(s.size).toBe(model.size);
        const ranges = s.ranges();
        for (let i = 1; i < ranges.length; i++) {
          // Disjoint, sorted and never adjacent: otherwise they should have merged.
          expect((ranges[i] as readonly number[])[0]).toBeGreaterThan((ranges[i - 1] as readonly number[])[1]! + 1);
        }
        for (let n = 0; n <= 222; n++) expect(s.has(n)).toBe(model.has(n));
      }),
    );
  });
});
