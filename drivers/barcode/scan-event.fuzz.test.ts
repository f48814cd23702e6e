import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileScanPipeline } from './scan-event.js';
import { barcodeSerialDeviceSchema } from './schema.js';

/**
 * Whatever bytes a scanner (or a shorted line) sends, the scan path never throws: it yields an
 * event with a string code and the documented attrs, a suppressed duplicate, or nothing.
 */
const configs = [
  {},
  { aimIds: true, validate: { checkDigit: 'gtin' } },
  { aimIds: true, stripPrefix: '\u0002', stripSuffix: '\u0003', validate: { minLength: 4, maxLength: 20, pattern: '^[A-Z0-9]+$' } },
  { validate: { checkDigit: 'ean13' }, duplicateWindowMs: 0 },
];

describe('fuzz: barcode scan pipeline', () => {
  it('never throws on arbitrary scan text, and every event is well-formed', () => {
    for (const extra of configs) {
      const cfg = barcodeSerialDeviceSchema.parse({ id: 's', type: 'barcode-serial', port: { path: '/dev/null' }, site: 'P3', lane: 1, ...extra });
      const scan = compileScanPipeline(cfg);
      fc.assert(
        fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom(']Q1', ']E0', ']', '', '\r\n', ']E04006381333931')), fc.nat(), (raw, t) => {
          const out = scan(raw, t);
          if (out.kind !== 'event') return;
          const r = out.reading;
          expect(r.kind).toBe('event');
          expect(typeof r.value).toBe('string');
          expect((r.value as string).length).toBeGreaterThan(0);
          expect(typeof r.attrs?.valid).toBe('boolean');
          if (r.attrs?.valid === false) expect(typeof r.attrs.invalidReason).toBe('string');
          for (const v of Object.values(r.attrs ?? {})) expect(['string', 'number', 'boolean']).toContain(typeof v);
        }),
        { numRuns: 400 },
      );
    }
  });
});
