import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { authorizationHeader } from './auth-challenge.js';
import { challengeToAnswer } from './auth-choice.js';
import { ProbeError, toProbeError, type ProbeProgress } from './probe-result.js';

export interface HttpReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** True when the body was cut at `limitBytes` (only with `truncate`). */
  truncated: boolean;
}

export interface HttpExchangeOptions {
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  signal: AbortSignal;
  progress: ProbeProgress;
  limitBytes: number;
  /** Stop reading (and drop the connection) after `limitBytes` instead of failing. */
  truncate?: boolean;
  rejectUnauthorized?: boolean;
  /** Label for error messages, e.g. "ONVIF GetDeviceInformation". */
  what: string;
}

/**
 * One HTTP(S) request with a bounded body and a hard abort. No keep-alive agent: every probe
 * opens and closes its own connection so nothing lingers between intervals.
 */
export function httpExchange(url: URL, opts: HttpExchangeOptions): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers: Record<string, string> = { 'User-Agent': 'edge-gateway', Connection: 'close', ...opts.headers };
    if (opts.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(opts.body));
    const req = request(url, {
      method: opts.method,
      headers,
      agent: false,
      signal: opts.signal,
      rejectUnauthorized: opts.rejectUnauthorized ?? true,
    });
    let settled = false;
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      req.destroy();
      reject(
        err instanceof ProbeError
          ? err
          : opts.signal.aborted
            ? opts.signal.reason
            : toProbeError(err, opts.progress, opts.what),
      );
    };
    req.on('socket', (socket) => {
      socket.once('connect', () => {
        opts.progress.connected = true;
      });
    });
    req.on('error', fail);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = (truncated: boolean): void => {
        if (settled) return;
        settled = true;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), truncated });
        if (truncated) req.destroy();
      };
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        const room = opts.limitBytes - size;
        if (chunk.length >= room && opts.truncate) {
          chunks.push(chunk.subarray(0, room));
          size += room;
          done(true);
          return;
        }
        if (chunk.length > room) {
          fail(new ProbeError('ENETWORK', `${opts.what}: reply body exceeds ${opts.limitBytes} bytes`, true));
          return;
        }
        chunks.push(chunk);
        size += chunk.length;
      });
      res.on('end', () => done(false));
      res.on('error', fail);
      res.on('aborted', () => fail(new ProbeError('ECONNRESET', `${opts.what}: reply cut off`, true)));
    });
    req.end(opts.body);
  });
}

export interface HttpCredentials {
  username?: string;
  password?: string;
  /** Answer a Basic challenge over plain http too (over https it is always answered). */
  allowBasicAuth?: boolean;
}

/**
 * httpExchange that answers one HTTP Digest/Basic challenge. Returns the 401 reply itself when
 * no credentials are configured so the caller can report AUTH_REQUIRED in its own words.
 */
export async function httpExchangeWithAuth(
  url: URL,
  opts: HttpExchangeOptions,
  creds: HttpCredentials,
): Promise<HttpReply> {
  const first = await httpExchange(url, opts);
  if (first.status !== 401 || creds.username === undefined || creds.password === undefined) return first;
  const raw = first.headers['www-authenticate'];
  const values = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const https = url.protocol === 'https:';
  const challenge = challengeToAnswer(values, {
    what: opts.what,
    transport: https ? 'https' : 'http',
    basicAllowed: https || creds.allowBasicAuth === true,
  });
  const authorization = authorizationHeader(challenge, {
    username: creds.username,
    password: creds.password,
    method: opts.method,
    uri: `${url.pathname}${url.search}`,
    nc: 1,
  });
  const second = await httpExchange(url, { ...opts, headers: { ...opts.headers, Authorization: authorization } });
  if (second.status === 401) {
    throw new ProbeError('AUTH_REJECTED', `${opts.what}: credentials rejected (401, ${challenge.scheme})`, true);
  }
  return second;
}
