import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProbeError } from './probe-result.js';
import { RTSP_MAX_BODY_BYTES, RTSP_MAX_HEAD_BYTES, RtspResponseReader, header } from './rtsp-response.js';

const reply =
  'RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\nWWW-Authenticate: Digest realm="r", nonce="n"\r\n' +
  'WWW-Authenticate: Basic realm="r"\r\nContent-Length: 5\r\n\r\nhello';

function badCode(feed: () => void): string {
  try {
    feed();
  } catch (err) {
    expect(err).toBeInstanceOf(ProbeError);
    return (err as ProbeError).code;
  }
  return 'no error';
}

describe('bounded RTSP response reader', () => {
  it('assembles a reply split at every byte boundary, keeping repeated headers', () => {
    const bytes = Buffer.from(reply + reply.replace('CSeq: 2', 'CSeq: 3'));
    for (let cut = 1; cut < bytes.length; cut++) {
      const r = new RtspResponseReader();
      r.push(bytes.subarray(0, cut));
      const early = r.next();
      r.push(bytes.subarray(cut));
      const first = early ?? r.next();
      expect(first?.status).toBe(401);
      expect(first?.headers.get('www-authenticate')).toHaveLength(2);
      expect(first?.body).toBe('hello');
      const second = r.next();
      expect(second && header(second, 'cseq')).toBe('3');
    }
  });

  it('rejects non-RTSP, oversized heads and bodies with RTSP_BAD_RESPONSE', () => {
    const feed = (s: string | Buffer) => () => {
      const r = new RtspResponseReader();
      r.push(Buffer.isBuffer(s) ? s : Buffer.from(s, 'latin1'));
      r.next();
    };
    expect(badCode(feed('HTTP/1.1 200 OK\r\n\r\n'))).toBe('RTSP_BAD_RESPONSE');
    expect(badCode(feed(`RTSP/1.0 200 OK\r\nX: ${'a'.repeat(RTSP_MAX_HEAD_BYTES)}`))).toBe('RTSP_BAD_RESPONSE');
    expect(badCode(feed(`RTSP/1.0 200 OK\r\nContent-Length: ${RTSP_MAX_BODY_BYTES + 1}\r\n\r\n`))).toBe('RTSP_BAD_RESPONSE');
    expect(badCode(feed('RTSP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n'))).toBe('RTSP_BAD_RESPONSE');
    expect(badCode(feed('RTSP/1.0 2x0 OK\r\n\r\n'))).toBe('RTSP_BAD_RESPONSE');
    expect(badCode(feed('RTSP/1.0 200 OK\r\nno colon here\r\n\r\n'))).toBe('RTSP_BAD_RESPONSE');
  });

  it('on arbitrary bytes only ever returns a reply, waits, or throws ProbeError, and never buffers past the bound', () => {
    // What is held after each read is bounded, however much arrives: up to 1 MiB is fed, far past
    // head + body, and the prefixes steer the bytes into the long-head and long-body paths.
    const bound = RTSP_MAX_HEAD_BYTES + 4 + RTSP_MAX_BODY_BYTES;
    const prefixes = ['', 'RTSP/1.0 200 OK\r\n', 'RTSP/1.0 200 OK\r\nX: ', `RTSP/1.0 200 OK\r\nContent-Length: ${RTSP_MAX_BODY_BYTES}\r\n\r\n`];
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 16 * 1024, size: 'max' }), { maxLength: 16, size: 'max' }), fc.constantFrom(...prefixes), fc.boolean(), (chunks, prefix, printable) => {
        const r = new RtspResponseReader();
        try {
          r.push(Buffer.from(prefix, 'latin1'));
          for (const c of chunks) {
            // Printable bytes without line ends keep a head or body growing instead of failing fast.
            r.push(printable ? Buffer.from(c.map((b) => 0x41 + (b % 26))) : Buffer.from(c));
            while (r.next() !== undefined);
            expect(r.bufferedBytes).toBeLessThanOrEqual(bound);
          }
        } catch (err) {
          expect(err).toBeInstanceOf(ProbeError);
        }
      }),
      { numRuns: 100, endOnFailure: true },
    );
  });

  it('a head that never ends is refused once it passes the head bound', () => {
    const r = new RtspResponseReader();
    r.push(Buffer.from('RTSP/1.0 200 OK\r\nX: '));
    const chunk = Buffer.alloc(4096, 'a');
    expect(
      badCode(() => {
        for (let fed = 0; fed < 1024 * 1024; fed += chunk.length) {
          r.push(chunk);
          r.next();
          expect(r.bufferedBytes).toBeLessThanOrEqual(RTSP_MAX_HEAD_BYTES + chunk.length);
        }
      }),
    ).toBe('RTSP_BAD_RESPONSE');
  });
});
