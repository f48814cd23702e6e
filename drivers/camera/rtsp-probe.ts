import type { Socket } from 'node:net';
import { authorizationHeader, type AuthChallenge } from './auth-challenge.js';
import { challengeToAnswer } from './auth-choice.js';
import { ProbeError, toProbeError, type ProbeProgress } from './probe-result.js';
import { header, RtspResponseReader, type RtspResponse } from './rtsp-response.js';
import { abortError, connectTcp } from './tcp-connect.js';

export interface RtspProbeTarget {
  host: string;
  port: number;
  path: string;
  username?: string;
  password?: string;
  /** RTSP here is never TLS, so Basic is answered only when the device file says so. */
  allowBasicAuth?: boolean;
}

export function rtspUrl(host: string, port: number, path: string): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return `rtsp://${h}:${port}${path}`;
}

/**
 * One RTSP control connection. Requests go one at a time; if the camera closes the connection
 * (many do after a 401) the next request reconnects.
 */
class RtspSession {
  #socket: Socket | undefined;
  #reader = new RtspResponseReader();
  #cseq = 0;
  #waiter: { resolve: (r: RtspResponse) => void; reject: (e: Error) => void } | undefined;
  #auth: { challenge: AuthChallenge; nc: number } | undefined;

  constructor(
    readonly target: RtspProbeTarget,
    readonly signal: AbortSignal,
    readonly progress: ProbeProgress,
  ) {}

  close(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  async #open(): Promise<Socket> {
    if (this.#socket && !this.#socket.destroyed) return this.#socket;
    const socket = await connectTcp(this.target.host, this.target.port, this.signal, this.progress);
    this.#socket = socket;
    this.#reader = new RtspResponseReader();
    const fail = (err: Error): void => {
      const w = this.#waiter;
      this.#waiter = undefined;
      w?.reject(err);
    };
    socket.on('data', (chunk: Buffer) => {
      if (!this.#waiter) return;
      try {
        this.#reader.push(chunk);
        const res = this.#reader.next();
        if (res) {
          const w = this.#waiter;
          this.#waiter = undefined;
          w.resolve(res);
        }
      } catch (err) {
        socket.destroy();
        fail(err as Error);
      }
    });
    socket.on('error', (err) => fail(toProbeError(err, this.progress, 'RTSP connection')));
    socket.on('close', () => {
      if (this.#socket === socket) this.#socket = undefined;
      fail(
        this.signal.aborted
          ? abortError(this.signal)
          : new ProbeError('ECONNRESET', 'camera closed the RTSP connection before a complete reply', true),
      );
    });
    return socket;
  }

  async #send(method: string, url: string, extra: Record<string, string>): Promise<RtspResponse> {
    const socket = await this.#open();
    const cseq = ++this.#cseq;
    const lines = [`${method} ${url} RTSP/1.0`, `CSeq: ${cseq}`, 'User-Agent: edge-gateway'];
    for (const [k, v] of Object.entries(extra)) lines.push(`${k}: ${v}`);
    if (this.#auth && this.target.username !== undefined && this.target.password !== undefined) {
      lines.push(
        `Authorization: ${authorizationHeader(this.#auth.challenge, {
          username: this.target.username,
          password: this.target.password,
          method,
          uri: url,
          nc: ++this.#auth.nc,
        })}`,
      );
    }
    const res = await new Promise<RtspResponse>((resolve, reject) => {
      this.#waiter = { resolve, reject };
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    const got = header(res, 'cseq');
    if (got !== undefined && got !== String(cseq)) {
      throw new ProbeError('RTSP_BAD_RESPONSE', `${method}: reply CSeq ${got.slice(0, 12)} does not match request ${cseq}`, true);
    }
    if (header(res, 'connection')?.toLowerCase() === 'close') this.close();
    return res;
  }

  /** Send a request, answering one auth challenge if the camera asks for it. */
  async request(method: string, url: string, extra: Record<string, string> = {}): Promise<RtspResponse> {
    let res = await this.#send(method, url, extra);
    if (res.status !== 401) return res;
    if (this.target.username === undefined || this.target.password === undefined) {
      throw new ProbeError('AUTH_REQUIRED', `${method}: camera requires credentials and none are configured`, true);
    }
    const hadAuth = this.#auth !== undefined;
    const challenge = challengeToAnswer(res.headers.get('www-authenticate') ?? [], {
      what: method,
      transport: 'rtsp',
      basicAllowed: this.target.allowBasicAuth === true,
    });
    // A fresh nonce (stale=true) after a previous success is a retry, not a rejection.
    const stale = challenge.params.stale?.toLowerCase() === 'true';
    if (hadAuth && !stale) throw new ProbeError('AUTH_REJECTED', `${method}: credentials rejected (401)`, true);
    this.#auth = { challenge, nc: 0 };
    res = await this.#send(method, url, extra);
    if (res.status === 401) {
      throw new ProbeError('AUTH_REJECTED', `${method}: credentials rejected (401, ${challenge.scheme})`, true);
    }
    return res;
  }
}

/**
 * OPTIONS then DESCRIBE on the stream URL; passes when DESCRIBE returns 200 with an SDP that has
 * a video media line. This proves the RTSP server is up, the credentials work and the stream is
 * configured, without pulling any video over the cabinet's uplink.
 */
export async function rtspProbe(target: RtspProbeTarget, signal: AbortSignal, progress: ProbeProgress): Promise<void> {
  const url = rtspUrl(target.host, target.port, target.path);
  const session = new RtspSession(target, signal, progress);
  try {
    const options = await session.request('OPTIONS', url);
    if (options.status !== 200) {
      throw new ProbeError('RTSP_STATUS', `OPTIONS returned ${options.status} ${options.reason.slice(0, 80)}`, true);
    }
    const describe = await session.request('DESCRIBE', url, { Accept: 'application/sdp' });
    if (describe.status !== 200) {
      throw new ProbeError('RTSP_STATUS', `DESCRIBE returned ${describe.status} ${describe.reason.slice(0, 80)}`, true);
    }
    if (!/^m=video[ \t]/m.test(describe.body)) {
      throw new ProbeError('RTSP_NO_VIDEO', 'DESCRIBE SDP has no m=video line', true);
    }
  } finally {
    session.close();
  }
}
