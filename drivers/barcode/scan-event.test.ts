import { describe, expect, it } from 'vitest';
import { ean13 } from '../../test-rigs/scanner-sim/scanner.js';
import { splitAimId } from './aim.js';
import { compileScanPipeline } from './scan-event.js';
import { barcodeSerialDeviceSchema } from './schema.js';
import { gs1CheckDigitOk } from './validate.js';

function pipeline(extra: Record<string, unknown>) {
  const cfg = barcodeSerialDeviceSchema.parse({ id: 's', type: 'barcode-serial', port: { path: '/dev/null' }, ...extra });
  return compileScanPipeline(cfg);
}

describe('AIM identifiers', () => {
  it('splits known identifiers and leaves unknown "]" data alone', () => {
    expect(splitAimId(']Q1https://p.example/t/42')).toEqual({ code: 'https://p.example/t/42', aimId: ']Q1', symbology: 'qr' });
    expect(splitAimId(']C1010123456789012815')).toMatchObject({ symbology: 'gs1-128' });
    expect(splitAimId(']E04006381333931')).toMatchObject({ code: '4006381333931', symbology: 'ean13' });
    expect(splitAimId(']d2xyz')).toMatchObject({ symbology: 'gs1-datamatrix' });
    expect(splitAimId(']W1abc')).toEqual({ code: ']W1abc' });
    expect(splitAimId('plain')).toEqual({ code: 'plain' });
  });
});

describe('check digits', () => {
  it('accepts real GTINs and rejects one-digit errors', () => {
    expect(gs1CheckDigitOk('4006381333931')).toBe(true); // EAN-13
    expect(gs1CheckDigitOk('96385074')).toBe(true); // EAN-8
    expect(gs1CheckDigitOk('036000291452')).toBe(true); // UPC-A
    expect(gs1CheckDigitOk('4006381333932')).toBe(false);
    expect(gs1CheckDigitOk(ean13('590123412345'))).toBe(true);
  });
});

describe('scan pipeline', () => {
  it('builds an event with the configured attrs, symbology and validity', () => {
    const p = pipeline({ site: 'P3', gate: 'north', lane: 2, direction: 'entry', stripPrefix: '#', validate: { checkDigit: 'gtin' } });
    expect(p('#]E04006381333931\r', 1000)).toEqual({
      kind: 'event',
      reading: {
        point: 'scan',
        value: '4006381333931',
        quality: 'good',
        ts: 1000,
        kind: 'event',
        attrs: { site: 'P3', gate: 'north', lane: 2, direction: 'entry', symbology: 'ean13', aimId: ']E0', valid: true },
      },
    });
  });

  it('marks invalid scans instead of dropping them', () => {
    const p = pipeline({ validate: { checkDigit: 'ean13' } });
    const r = p('4006381333932', 1);
    expect(r.kind === 'event' && r.reading.attrs).toMatchObject({ valid: false, invalidReason: 'ean13: bad check digit' });
    const q = pipeline({ validate: { minLength: 4, maxLength: 6, pattern: '^T\\d+$' } });
    const ok = q('T1234', 1);
    expect(ok.kind === 'event' && ok.reading.attrs).toMatchObject({ valid: true });
    expect(ok.kind === 'event' && ok.reading.attrs).not.toHaveProperty('invalidReason');
    const short = q('T12', 10_000);
    expect(short.kind === 'event' && short.reading.attrs?.invalidReason).toBe('too short (3 < 4)');
    const nomatch = q('X1234', 20_000);
    expect(nomatch.kind === 'event' && nomatch.reading.attrs?.invalidReason).toMatch(/does not match pattern/);
  });

  it('suppresses repeats within the window, extended by each repeat', () => {
    const p = pipeline({ duplicateWindowMs: 1000 });
    expect(p('A', 0).kind).toBe('event');
    expect(p('A', 900).kind).toBe('duplicate');
    expect(p('A', 1800).kind).toBe('duplicate'); // still held under the scanner
    expect(p('B', 1900).kind).toBe('event');
    expect(p('A', 2000).kind).toBe('event'); // a different ticket came in between
    expect(p('A', 3500).kind).toBe('event'); // presented again after a pause
    const all = pipeline({ duplicateWindowMs: 0 });
    expect([all('A', 0).kind, all('A', 1).kind]).toEqual(['event', 'event']);
  });

  it('rejects bad validation config at load', () => {
    const base = { id: 's', type: 'barcode-serial', port: { path: '/dev/x' } };
    expect(barcodeSerialDeviceSchema.safeParse({ ...base, validate: { pattern: '(' } }).success).toBe(false);
    expect(barcodeSerialDeviceSchema.safeParse({ ...base, validate: { minLength: 5, maxLength: 2 } }).success).toBe(false);
    expect(barcodeSerialDeviceSchema.safeParse({ ...base, direction: 'sideways' }).success).toBe(false);
  });

  it('judges check digits only for EAN/UPC: by AIM id, or by shape when no AIM id is sent', () => {
    const p = pipeline({ validate: { checkDigit: 'gtin' }, duplicateWindowMs: 0 });
    const attrs = (raw: string) => {
      const r = p(raw, 1);
      return r.kind === 'event' ? r.reading.attrs : r.kind;
    };
    expect(attrs(']Q1https://p.example/t/42')).toMatchObject({ symbology: 'qr', valid: true });
    expect(attrs(']C0TICKET-42')).toMatchObject({ symbology: 'code128', valid: true });
    expect(attrs(']d2010400638133393110ABC')).toMatchObject({ symbology: 'gs1-datamatrix', valid: true });
    expect(attrs(']E04006381333932')).toMatchObject({ valid: false, invalidReason: 'gtin: bad check digit' });
    expect(attrs(']E496385074')).toMatchObject({ symbology: 'ean8', valid: true });
    expect(attrs(']E0ABC')).toMatchObject({ valid: false, invalidReason: 'gtin: not all digits' });
    expect(attrs('T0001')).toMatchObject({ valid: true });
    expect(attrs('1234567890')).toMatchObject({ valid: true }); // 10 digits: not a GTIN length
    expect(attrs('4006381333932')).toMatchObject({ valid: false, invalidReason: 'gtin: bad check digit' });
    expect(attrs('10012345678902')).toMatchObject({ valid: true }); // GTIN-14
  });

  it('strips the AIM id before trimming, and trims only when asked', () => {
    const keep = pipeline({});
    const r = keep(']Q1 spaced payload \r', 1);
    expect(r.kind === 'event' && r.reading.value).toBe(' spaced payload ');
    const trim = pipeline({ trim: true });
    const t = trim(']Q1 spaced payload ', 1);
    expect(t.kind === 'event' && t.reading.value).toBe('spaced payload');
  });

  it('classifies binary line noise as noise, not as a scan; GS1 separators are data', () => {
    const p = pipeline({ duplicateWindowMs: 0 });
    expect(p('\x00\x01garbage\x7f', 1).kind).toBe('noise');
    expect(p('abc\uFFFDdef', 1).kind).toBe('noise');
    expect(p('\x1b[2J', 1).kind).toBe('noise');
    const gs1 = p(']C1010400638133393110ABC\x1d17250101', 1);
    expect(gs1.kind === 'event' && gs1.reading.value).toBe('010400638133393110ABC\x1d17250101');
    expect(p('\x02T0001\x03', 1).kind).toBe('event');
  });
});
