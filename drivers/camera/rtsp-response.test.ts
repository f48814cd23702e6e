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
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 4096 }), { maxLength: 12 }), fc.boolean(), (chunks, prefix) => {
        const r = new RtspResponseReader();
        let total = 0;
        try {
          if (prefix) r.push(Buffer.from('RTSP/1.0 200 OK\r\n'));
          for (const c of chunks) {
            r.push(Buffer.from(c));
            total += c.length;
            r.next();
            // Either it throws, or what it holds is within head + body bounds (plus one chunk).
            expect(total).toBeLessThan(RTSP_MAX_HEAD_BYTES + RTSP_MAX_BODY_BYTES + 4096 * 12 + 64);
          }
        } catch (err) {
          expect(err).toBeInstanceOf(ProbeError);
        }
      }),
      { numRuns: 300 },
    );
  });
});
