import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shortestFloat32 } from './float32.js';

describe('shortestFloat32', () => {
  it.each([
    [3.14159, 3.14159],
    [21.5, 21.5],
    [0.1, 0.1],
    [-2.718, -2.718],
    [1e-7, 1e-7],
    [3.4028234663852886e38, 3.4028235e38],
    [1.401298464324817e-45, 1e-45],
    [16777216, 16777216],
    [0, 0],
  ])('shows the float32 of %s as %s', (written, shown) => {
    const f = Math.fround(written);
    expect(shortestFloat32(f)).toBe(shown);
    expect(String(shortestFloat32(Math.fround(3.14159)))).toBe('3.14159');
  });

  it('leaves NaN, infinities and values that are not float32 alone', () => {
    expect(shortestFloat32(Number.NaN)).toBeNaN();
    expect(shortestFloat32(Infinity)).toBe(Infinity);
    expect(shortestFloat32(0.1)).toBe(0.1);
  });

  it('reads back as the same float32, with no more digits than any shorter candidate', () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const f = Math.fround(x);
        const s = shortestFloat32(f);
        expect(Math.fround(s)).toBe(f);
        const digits = s === 0 ? 1 : s.toExponential().split('e')[0]!.replace(/[-.]/g, '').length;
        // One digit fewer (when there is one to drop) must not read back as f.
        if (digits > 1) expect(Math.fround(Number(f.toPrecision(digits - 1)))).not.toBe(f);
      }),
      { numRuns: 5000 },
    );
  });
});
