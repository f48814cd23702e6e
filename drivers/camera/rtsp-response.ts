import { ProbeError } from './probe-result.js';

/** A camera can send anything; these bounds keep a broken or hostile one from eating memory. */
export const RTSP_MAX_HEAD_BYTES = 16 * 1024;
export const RTSP_MAX_BODY_BYTES = 64 * 1024;
const MAX_HEADER_LINES = 64;

export interface RtspResponse {
  status: number;
  reason: string;
  /** Lower-cased names; repeated headers (WWW-Authenticate) keep every value. */
  headers: Map<string, string[]>;
  body: string;
}

export function header(res: RtspResponse, name: string): string | undefined {
  return res.headers.get(name.toLowerCase())?.[0];
}

function bad(message: string): ProbeError {
  return new ProbeError('RTSP_BAD_RESPONSE', message, true);
}

/**
 * Incremental RTSP/1.0 response reader. Feed it socket chunks; `next()` returns a complete
 * response once head and Content-Length body have arrived, and throws RTSP_BAD_RESPONSE on
 * anything that is not RTSP or exceeds the bounds.
 */
export class RtspResponseReader {
  #buf: Buffer = Buffer.alloc(0);

  /** What the reader holds: the bound the tests check, whatever the peer sends. */
  get bufferedBytes(): number {
    return this.#buf.length;
  }

  push(chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
  }

  next(): RtspResponse | undefined {
    if (this.#buf.length >= 5 && this.#buf.subarray(0, 5).toString('latin1') !== 'RTSP/') {
      throw bad(`reply does not start with RTSP/ (got ${JSON.stringify(this.#buf.subarray(0, 16).toString('latin1'))})`);
    }
    let headEnd = this.#buf.indexOf('\r\n\r\n');
    let sepLen = 4;
    if (headEnd < 0) {
      // A few embedded servers use bare LF line ends.
      headEnd = this.#buf.indexOf('\n\n');
      sepLen = 2;
    }
    if (headEnd < 0) {
      if (this.#buf.length > RTSP_MAX_HEAD_BYTES) throw bad(`reply head exceeds ${RTSP_MAX_HEAD_BYTES} bytes`);
      return undefined;
    }
    if (headEnd > RTSP_MAX_HEAD_BYTES) throw bad(`reply head exceeds ${RTSP_MAX_HEAD_BYTES} bytes`);
    const lines = this.#buf.subarray(0, headEnd).toString('latin1').split(/\r?\n/);
    if (lines.length > MAX_HEADER_LINES) throw bad(`reply has more than ${MAX_HEADER_LINES} header lines`);
    const statusLine = /^RTSP\/1\.\d (\d{3})(?: (.*))?$/.exec(lines[0] ?? '');
    if (!statusLine) throw bad(`malformed status line ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
    const headers = new Map<string, string[]>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw bad(`malformed header line ${JSON.stringify(line.slice(0, 80))}`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      const list = headers.get(name);
      if (list) list.push(value);
      else headers.set(name, [value]);
    }
    const lengthHeader = headers.get('content-length')?.[0];
    let bodyLength = 0;
    if (lengthHeader !== undefined) {
      if (!/^\d{1,9}$/.test(lengthHeader)) throw bad(`bad Content-Length ${JSON.stringify(lengthHeader.slice(0, 20))}`);
      bodyLength = Number(lengthHeader);
      if (bodyLength > RTSP_MAX_BODY_BYTES) throw bad(`body of ${bodyLength} bytes exceeds ${RTSP_MAX_BODY_BYTES}`);
    }
    const bodyStart = headEnd + sepLen;
    if (this.#buf.length < bodyStart + bodyLength) return undefined;
    const body = this.#buf.subarray(bodyStart, bodyStart + bodyLength).toString('utf8');
    this.#buf = this.#buf.subarray(bodyStart + bodyLength);
    return { status: Number(statusLine[1]), reason: statusLine[2] ?? '', headers, body };
  }
}
