import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FlapDamper } from './flap-damper.js';

type S = 'online' | 'degraded' | 'offline';

describe('FlapDamper', () => {
  it('takes the first observation at once', () => {
    const d = new FlapDamper<S>(3);
    expect(d.observe('offline')).toEqual({ state: 'offline', changed: true, previous: undefined });
  });

  it('changes only after N consecutive disagreeing observations, and a single agreeing one resets', () => {
    const d = new FlapDamper<S>(3);
    d.observe('online');
    expect(d.observe('degraded').changed).toBe(false);
    expect(d.observe('degraded').changed).toBe(false);
    expect(d.observe('online').changed).toBe(false); // reset
    expect(d.observe('degraded').changed).toBe(false);
    expect(d.observe('offline').changed).toBe(false);
    // degraded/offline alternate, but all three disagree with online: change to the latest.
    expect(d.observe('degraded')).toEqual({ state: 'degraded', changed: true, previous: 'online' });
    expect(d.pending).toBeUndefined();
  });

  it('threshold 1 follows every change', () => {
    const d = new FlapDamper<S>(1);
    d.observe('online');
    expect(d.observe('offline')).toEqual({ state: 'offline', changed: true, previous: 'online' });
  });

  it('property: never reports a change before `threshold` disagreeing observations in a row', () => {
    const states: S[] = ['online', 'degraded', 'offline'];
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(fc.constantFrom(...states), { minLength: 1, maxLength: 60 }), (n, seq) => {
        const d = new FlapDamper<S>(n);
        let reported: S | undefined;
        let disagree = 0;
        seq.forEach((raw, i) => {
          const r = d.observe(raw);
          if (i === 0) {
            reported = raw;
            return;
          }
          disagree = raw === reported ? 0 : disagree + 1;
          if (r.changed) {
            expect(disagree).toBe(n);
            expect(r.state).toBe(raw);
            reported = raw;
            disagree = 0;
          } else expect(r.state).toBe(reported);
        });
      }),
    );
  });
});
