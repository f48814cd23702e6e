import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../transport/serial/line-splitter.js';
import { lineEnding } from '../transport/serial/terminator.js';
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

  it('a complete, terminated code after any garbage and a pause is delivered exactly (splitter + scan path)', () => {
    const printable = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c));
    const aim = fc.constantFrom('', ']Q1', ']C0', ']E0', ']d2');
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 4000 }),
        fc.array(fc.nat({ max: 4000 }), { maxLength: 8 }),
        fc.string({ minLength: 1, maxLength: 80, unit: printable }),
        aim,
        fc.constantFrom('any', 'CR', 'LF', 'CRLF'),
        (garbage, cuts, code, aimId, terminator) => {
          const cfg = barcodeSerialDeviceSchema.parse({
            id: 's',
            type: 'barcode-serial',
            port: { path: '/dev/null' },
            terminator,
            validate: { checkDigit: 'gtin' },
            duplicateWindowMs: 0,
          });
          const scan = compileScanPipeline(cfg);
          const splitter = new LineSplitter({ ending: lineEnding(cfg.terminator), maxLineBytes: cfg.maxCodeLength, interCharTimeoutMs: cfg.interCharTimeoutMs });
          const data = Buffer.from(garbage);
          const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
          let prev = 0;
          let t = 0;
          for (const p of [...points, data.length]) {
            for (const line of splitter.push(data.subarray(prev, p), (t += 5)).lines) scan(line.toString('utf8'), t);
            prev = p;
          }
          const end = { any: '\r\n', CR: '\r', LF: '\n', CRLF: '\r\n' }[terminator]!;
          const after = splitter.push(Buffer.from(aimId + code + end, 'utf8'), t + cfg.interCharTimeoutMs + 1);
          const outcomes = after.lines.map((l) => scan(l.toString('utf8'), t + 1000));
          // A leading "]X9"-looking code without an AIM prefix would be split by design: skip those.
          fc.pre(aimId !== '' || !/^\][A-Za-z][0-9A-Za-z]/.test(code));
          expect(outcomes).toHaveLength(1);
          const out = outcomes[0]!;
          expect(out.kind).toBe('event');
          if (out.kind === 'event') expect(out.reading.value).toBe(code);
        },
      ),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 1000) },
    );
  });
});
