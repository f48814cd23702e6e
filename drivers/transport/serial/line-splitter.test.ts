import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter } from './line-splitter.js';

const crlf = Buffer.from('\r\n');

function splitAll(chunks: Buffer[], delimiter: Buffer, max: number): { lines: string[]; overlong: number; peak: number } {
  const s = new LineSplitter({ delimiter, maxLineBytes: max });
  const lines: string[] = [];
  let overlong = 0;
  let peak = 0;
  for (const c of chunks) {
    const r = s.push(c);
    lines.push(...r.lines.map((l) => l.toString('latin1')));
    overlong += r.overlong;
    peak = Math.max(peak, s.bufferedBytes);
  }
  return { lines, overlong, peak };
}

describe('LineSplitter', () => {
  it('splits on a multi-byte delimiter split across chunks', () => {
    const r = splitAll([Buffer.from('ab\r'), Buffer.from('\ncd\r\nef')], crlf, 100);
    expect(r.lines).toEqual(['ab', 'cd']);
    expect(r.overlong).toBe(0);
  });

  it('drops an overlong line once, keeps memory bounded and resumes after its delimiter', () => {
    const chunks = [Buffer.from('ok1\n'), ...Array.from({ length: 200 }, () => Buffer.from('Z'.repeat(1000))), Buffer.from('tail\nok2\n')];
    const r = splitAll(chunks, Buffer.from('\n'), 64);
    expect(r.lines).toEqual(['ok1', 'ok2']);
    expect(r.overlong).toBe(1);
    expect(r.peak).toBeLessThanOrEqual(64);
  });

  it('counts a line just over the bound that ends within one chunk', () => {
    const r = splitAll([Buffer.from('x'.repeat(9) + '\nshort\n')], Buffer.from('\n'), 8);
    expect(r.lines).toEqual(['short']);
    expect(r.overlong).toBe(1);
  });

  it('keeps a line of exactly maxLineBytes', () => {
    const r = splitAll([Buffer.from('x'.repeat(8) + '\r'), Buffer.from('\n')], crlf, 8);
    expect(r.lines).toEqual(['x'.repeat(8)]);
  });

  it('rejects an empty delimiter', () => {
    expect(() => new LineSplitter({ delimiter: Buffer.alloc(0), maxLineBytes: 10 })).toThrow(/delimiter/);
  });

  it('gives the same lines however the stream is chunked, and never buffers past the bound', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 600 }),
        fc.array(fc.nat({ max: 600 }), { maxLength: 10 }),
        fc.constantFrom('\n', '\r\n', '\x03', 'END'),
        fc.integer({ min: 1, max: 80 }),
        (bytes, cuts, delim, max) => {
          const data = Buffer.from(bytes);
          const d = Buffer.from(delim, 'latin1');
          const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
          const chunks: Buffer[] = [];
          let prev = 0;
          for (const p of [...points, data.length]) {
            chunks.push(data.subarray(prev, p));
            prev = p;
          }
          const whole = splitAll([data], d, max);
          const pieces = splitAll(chunks, d, max);
          expect(pieces.lines).toEqual(whole.lines);
          expect(pieces.overlong).toBe(whole.overlong);
          expect(pieces.peak).toBeLessThanOrEqual(max + d.length - 1);
          for (const l of pieces.lines) expect(Buffer.byteLength(l, 'latin1')).toBeLessThanOrEqual(max);
        },
      ),
      { numRuns: 500 },
    );
  });
});
