import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Debouncer, type Clock } from './debounce.js';
import type { Level } from './pin-source.js';

/**
 * Any sequence of raw edges with any spacing: reported changes alternate (never the same level
 * twice), and once the line has been quiet for the debounce time the reported level is the line's.
 */
afterEach(() => vi.useRealTimers());

describe('fuzz: GPIO debouncer', () => {
  it('reports alternating levels and settles on the line level', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Level>(0, 1),
        fc.integer({ min: 0, max: 50 }),
        fc.array(fc.record({ level: fc.constantFrom<Level>(0, 1), gapMs: fc.integer({ min: 0, max: 80 }) }), { maxLength: 60 }),
        (initial, ms, edges) => {
          vi.useFakeTimers();
          const clock: Clock = { wall: () => Date.now(), mono: () => Date.now() };
          const reported: Level[] = [];
          const d = new Debouncer(initial, ms, clock, (level) => reported.push(level));
          let line = initial;
          for (const e of edges) {
            vi.advanceTimersByTime(e.gapMs);
            d.feed(e.level);
            line = e.level;
          }
          vi.advanceTimersByTime(ms + 1);
          let prev = initial;
          for (const level of reported) {
            expect(level).not.toBe(prev);
            prev = level;
          }
          expect(d.level).toBe(line);
          d.dispose();
          vi.useRealTimers();
        },
      ),
      { numRuns: 300 },
    );
  });
});
