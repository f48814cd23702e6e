import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter, type LineEnding } from './line-splitter.js';

const crlf = Buffer.from('\r\n');

function splitAll(chunks: Buffer[], ending: LineEnding, max: number, lineStartBytes?: Buffer) {
  const s = new LineSplitter({ ending, maxLineBytes: max, ...(lineStartBytes ? { lineStartBytes } : {}) });
  const lines: string[] = [];
  let overlong = 0;
  let peak = 0;
  let discardedBytes = 0;
  let fragments = 0;
  for (const c of chunks) {
    const r = s.push(c, 0);
    lines.push(...r.lines.map((l) => l.toString('latin1')));
    overlong += r.overlong;
    discardedBytes += r.discardedBytes;
    fragments += r.fragments;
    peak = Math.max(peak, s.bufferedBytes);
  }
  return { lines, overlong, peak, discardedBytes, fragments };
}

/** Cuts `data` at the given points (mod its length), sorted and deduplicated. */
function cut(data: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, data.length]) {
    chunks.push(data.subarray(prev, p));
    prev = p;
  }
  return chunks;
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
    expect(() => new LineSplitter({ ending: Buffer.alloc(0), maxLineBytes: 10 })).toThrow(/ending/);
  });

  it('gives the same lines however the stream is chunked, and never buffers past the bound', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 600 }),
        fc.array(fc.nat({ max: 600 }), { maxLength: 10 }),
        fc.constantFrom('\n', '\r\n', '\x03', 'END', 'any'),
        fc.integer({ min: 1, max: 80 }),
        fc.boolean(),
        (bytes, cuts, delim, max, nmea) => {
          const data = Buffer.from(bytes);
          const d: LineEnding = delim === 'any' ? 'any' : Buffer.from(delim, 'latin1');
          const start = nmea ? Buffer.from('$!') : undefined;
          const whole = splitAll([data], d, max, start);
          const pieces = splitAll(cut(data, cuts), d, max, start);
          expect(pieces.lines).toEqual(whole.lines);
          if (nmea) {
            // Whether junk before a '$' hit the length bound before the '$' arrived depends on the
            // chunking (memory stays bounded, so it cannot wait): counted as overlong or as a fragment.
            expect(pieces.overlong + pieces.fragments).toBe(whole.overlong + whole.fragments);
          } else {
            expect(pieces.overlong).toBe(whole.overlong);
            expect(pieces.fragments).toBe(whole.fragments);
          }
          expect(pieces.peak).toBeLessThanOrEqual(max + (d === 'any' ? 0 : d.length - 1));
          for (const l of pieces.lines) expect(Buffer.byteLength(l, 'latin1')).toBeLessThanOrEqual(max);
        },
      ),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 500) },
    );
  });

  it('with ending any, takes CR, LF and CRLF alike, also when a CRLF is split across chunks', () => {
    const r = splitAll([Buffer.from('TERM-LF-1\nTERM-LF-2\nTERM-CR-2\rCRLF-1\r'), Buffer.from('\nlast\r\n')], 'any', 100);
    expect(r.lines).toEqual(['TERM-LF-1', 'TERM-LF-2', 'TERM-CR-2', 'CRLF-1', 'last']);
  });

  it('reports a line that holds another ending than the configured one, but not the halves of a CRLF', () => {
    const s = new LineSplitter({ ending: Buffer.from('\r'), maxLineBytes: 100 });
    expect(s.push(Buffer.from('TERM-LF-1\nTERM-LF-2\nTERM-CR-2\r'), 0)).toMatchObject({ lines: [Buffer.from('TERM-LF-1\nTERM-LF-2\nTERM-CR-2')], mixedEndings: 1 });
    expect(s.push(Buffer.from('\nA\r\nB\r'), 0)).toMatchObject({ mixedEndings: 0 });
  });

  it('abandons a partial line after a pause and counts it with its bytes', () => {
    const s = new LineSplitter({ ending: 'any', maxLineBytes: 100, interCharTimeoutMs: 200 });
    expect(s.push(Buffer.from('noise-without-end'), 1000)).toMatchObject({ lines: [], fragments: 0 });
    expect(s.push(Buffer.from('T0001\r'), 1300)).toMatchObject({ lines: [Buffer.from('T0001')], fragments: 1, discardedBytes: 17 });
    // Within the timeout a line may arrive in pieces.
    s.push(Buffer.from('T00'), 2000);
    expect(s.push(Buffer.from('02\r'), 2150).lines).toEqual([Buffer.from('T0002')]);
  });

  it('after a 20 KB line without an ending and a pause, the next real line is kept, not skipped as its rest', () => {
    const s = new LineSplitter({ ending: Buffer.from('\r'), maxLineBytes: 1024, interCharTimeoutMs: 200 });
    const first = s.push(Buffer.from('X'.repeat(20_000)), 0);
    const next = s.push(Buffer.from('T0002\r'), 500);
    expect(first.overlong + next.overlong).toBe(1);
    expect(first.discardedBytes + next.discardedBytes).toBe(20_000);
    expect(next.lines).toEqual([Buffer.from('T0002')]);
  });

  it('resynchronises on an NMEA sentence start: a cut-off sentence does not take the next one with it', () => {
    const s = new LineSplitter({ ending: 'any', maxLineBytes: 200, lineStartBytes: Buffer.from('$!') });
    const r = s.push(Buffer.from('$GPRMC,123519,A,4807.0$GPGGA,1*00\r\n'), 0);
    expect(r.lines).toEqual([Buffer.from('$GPGGA,1*00')]);
    expect(r).toMatchObject({ fragments: 1, discardedBytes: '$GPRMC,123519,A,4807.0'.length });
  });

  it('fuzz: a complete, terminated line after any garbage and a pause is delivered exactly', () => {
    const code = fc.string({ minLength: 1, maxLength: 60, unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) }).filter((c) => !/[$!]/.test(c));
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 3000 }),
        fc.array(fc.nat({ max: 3000 }), { maxLength: 8 }),
        code,
        fc.constantFrom('any', '\r', '\n', '\r\n', '\x03', 'END'),
        fc.boolean(),
        (garbage, cuts, text, ending, nmea) => {
          const end: LineEnding = ending === 'any' ? 'any' : Buffer.from(ending, 'latin1');
          const term = ending === 'any' ? '\r\n' : ending;
          const line = nmea ? `$${text}` : text;
          fc.pre(!(line + term).slice(0, -term.length).includes(term) && !(ending === 'END' && /E$|EN$/.test(line)));
          const s = new LineSplitter({ ending: end, maxLineBytes: 64, interCharTimeoutMs: 100, ...(nmea ? { lineStartBytes: Buffer.from('$!') } : {}) });
          let t = 0;
          for (const c of cut(Buffer.from(garbage), cuts)) s.push(c, (t += 10));
          const after = s.push(Buffer.from(line + term, 'latin1'), t + 500);
          expect(after.lines.map((l) => l.toString('latin1'))).toEqual([line]);
        },
      ),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 1000) },
    );
  });
});
