/**
 * Camera simulator: a real RTSP/1.0 server over TCP and an ONVIF device service + snapshot
 * endpoint over HTTP, on loopback ports chosen by the OS. Faults are switched on demand so tests
 * can walk a driver through every failure a real cabinet sees.
 *
 * Auth checks here are written independently of the driver's client code (own Digest and
 * UsernameToken verification) so that a bug shared by both sides cannot make a test pass.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';

export type CameraFault =
  /** everything answers correctly */
  | 'none'
  /** every credential is rejected: RTSP 401, ONVIF NotAuthorized, snapshot 401 */
  | 'auth-rejected'
  /** DESCRIBE returns an SDP with only an audio track */
  | 'no-video'
  /** accept connections, send the start of a reply, then go silent */
  | 'hang'
  /** ONVIF and snapshot answer HTTP 500 */
  | 'http-500'
  /** listeners closed: connections are refused */
  | 'refused'
  /** every reply is delayed by `slowMs` */
  | 'slow'
  /** RTSP answers with bytes that are not RTSP */
  | 'garbage'
  /** snapshot answers 200 with an HTML page */
  | 'snapshot-not-image';

export type SimService = 'rtsp' | 'http' | 'all';

export interface CameraSimOptions {
  host?: string;
  username?: string;
  password?: string;
  /** How the RTSP server challenges DESCRIBE when credentials are set. */
  rtspAuth?: 'digest' | 'basic';
  /** How the snapshot URL challenges (ONVIF uses WS-UsernameToken instead). */
  snapshotAuth?: 'digest' | 'basic';
  /** Answer OPTIONS with this status line instead of 200 OK, e.g. a reason phrase a device made up. */
  optionsStatus?: string;
  /** Also demand auth on OPTIONS (some firmwares do). */
  authOnOptions?: boolean;
  streamPath?: string;
  onvifPath?: string;
  snapshotPath?: string;
  manufacturer?: string;
  model?: string;
  firmware?: string;
  /** The camera's clock is this far ahead of ours (UsernameToken Created is checked against it). */
  clockSkewMs?: number;
  slowMs?: number;
  /** Reason text in SOAP faults; lets a test make a camera echo a secret back. */
  faultText?: string;
}

export interface CameraSimStats {
  rtspConnections: number;
  rtspRequests: Record<string, number>;
  httpRequests: Record<string, number>;
}

export interface CameraSim {
  readonly host: string;
  readonly rtspPort: number;
  readonly httpPort: number;
  readonly streamPath: string;
  readonly onvifPath: string;
  readonly snapshotUrl: string;
  readonly stats: CameraSimStats;
  setFault(fault: CameraFault, service?: SimService): Promise<void>;
  setFirmware(firmware: string): void;
  stop(): Promise<void>;
}

const REALM = 'camera-sim';
const MAX_REQUEST_BYTES = 16 * 1024;
const TINY_JPEG = Buffer.from('ffd8ffe000104a46494600010100000100010000ffd9', 'hex');

function md5(s: string): string {
  return createHash('md5').update(s).digest('hex');
}

function authParams(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of header.matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    out[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
  }
  return out;
}

function listen(server: TcpServer | HttpServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: TcpServer | HttpServer, sockets: Set<Socket>): Promise<void> {
  return new Promise((resolve) => {
    for (const s of sockets) s.destroy();
    sockets.clear();
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
}

export async function startCameraSim(options: CameraSimOptions = {}): Promise<CameraSim> {
  const host = options.host ?? '127.0.0.1';
  const streamPath = options.streamPath ?? '/stream1';
  const onvifPath = options.onvifPath ?? '/onvif/device_service';
  const snapshotPath = options.snapshotPath ?? '/snapshot.jpg';
  const slowMs = options.slowMs ?? 500;
  const creds = options.username !== undefined && options.password !== undefined;
  let firmware = options.firmware ?? '1.0.0';
  const faults: Record<'rtsp' | 'http', CameraFault> = { rtsp: 'none', http: 'none' };
  const stats: CameraSimStats = { rtspConnections: 0, rtspRequests: {}, httpRequests: {} };
  const rtspSockets = new Set<Socket>();
  const httpSockets = new Set<Socket>();
  const nonces = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();

  const later = (fault: CameraFault, fn: () => void): void => {
    if (fault !== 'slow') {
      fn();
      return;
    }
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, slowMs);
    timers.add(t);
  };

  const newNonce = (): string => {
    const n = randomBytes(12).toString('hex');
    nonces.add(n);
    if (nonces.size > 1000) nonces.delete(nonces.values().next().value!);
    return n;
  };

  /** Independent server-side check of an Authorization header (Digest MD5 with/without qop, Basic). */
  const authorized = (authorization: string | undefined, method: string, scheme: 'digest' | 'basic'): boolean => {
    if (!creds || authorization === undefined) return false;
    if (scheme === 'basic') {
      const expected = Buffer.from(`${options.username}:${options.password}`).toString('base64');
      return authorization === `Basic ${expected}`;
    }
    if (!authorization.startsWith('Digest ')) return false;
    const p = authParams(authorization.slice(7));
    if (p.username !== options.username || p.realm !== REALM || !p.nonce || !nonces.has(p.nonce) || !p.uri) return false;
    const ha1 = md5(`${options.username}:${REALM}:${options.password}`);
    const ha2 = md5(`${method}:${p.uri}`);
    const expected =
      p.qop === 'auth' ? md5(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:auth:${ha2}`) : md5(`${ha1}:${p.nonce}:${ha2}`);
    return p.response === expected;
  };

  const challenge = (scheme: 'digest' | 'basic'): string =>
    scheme === 'basic' ? `Basic realm="${REALM}"` : `Digest realm="${REALM}", nonce="${newNonce()}", qop="auth", algorithm=MD5`;

  // ---------------------------------------------------------------- RTSP
  const rtspScheme = options.rtspAuth ?? 'digest';
  const sdp = (video: boolean): string =>
    [
      'v=0',
      `o=- 1 1 IN IP4 ${host}`,
      's=camera-sim',
      `c=IN IP4 ${host}`,
      't=0 0',
      ...(video ? ['m=video 0 RTP/AVP 96', 'a=rtpmap:96 H264/90000', 'a=control:track1'] : []),
      'm=audio 0 RTP/AVP 0',
      'a=control:track2',
      '',
    ].join('\r\n');

  const handleRtsp = (socket: Socket, head: string): void => {
    const lines = head.split('\r\n');
    const [method = '', url = ''] = (lines[0] ?? '').split(' ');
    const headers = new Map<string, string>();
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      if (i > 0) headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
    }
    const cseq = headers.get('cseq') ?? '0';
    stats.rtspRequests[method] = (stats.rtspRequests[method] ?? 0) + 1;
    const fault = faults.rtsp;
    const reply = (status: string, extra: string[] = [], body = ''): void => {
      later(fault, () => {
        const h = [`RTSP/1.0 ${status}`, `CSeq: ${cseq}`, ...extra];
        if (body) h.push(`Content-Length: ${Buffer.byteLength(body)}`);
        if (!socket.destroyed) socket.write(`${h.join('\r\n')}\r\n\r\n${body}`);
      });
    };
    if (fault === 'hang') {
      socket.write(`RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\n`);
      return;
    }
    if (fault === 'garbage') {
      socket.write(Buffer.concat([Buffer.from('\x00\xff\xfeHELLO'), randomBytes(64)]));
      return;
    }
    let path = '';
    try {
      path = new URL(url).pathname;
    } catch {
      reply('400 Bad Request');
      return;
    }
    if (path !== streamPath) {
      reply('404 Not Found');
      return;
    }
    const needsAuth = creds && (method === 'DESCRIBE' || (options.authOnOptions === true && method === 'OPTIONS'));
    if (needsAuth && (fault === 'auth-rejected' || !authorized(headers.get('authorization'), method, rtspScheme))) {
      reply('401 Unauthorized', [`WWW-Authenticate: ${challenge(rtspScheme)}`]);
      return;
    }
    if (method === 'OPTIONS') reply(options.optionsStatus ?? '200 OK', ['Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN']);
    else if (method === 'DESCRIBE') {
      reply('200 OK', ['Content-Type: application/sdp', `Content-Base: ${url}/`], sdp(fault !== 'no-video'));
    } else reply('405 Method Not Allowed');
  };

  const rtspServer = createTcpServer((socket) => {
    stats.rtspConnections += 1;
    rtspSockets.add(socket);
    socket.on('close', () => rtspSockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buf = '';
    socket.on('data', (chunk: Buffer) => {
      buf += chunk.toString('latin1');
      if (buf.length > MAX_REQUEST_BYTES) {
        socket.destroy();
        return;
      }
      for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        handleRtsp(socket, head);
      }
    });
  });

  // ---------------------------------------------------------------- HTTP (ONVIF + snapshot)
  const soap = (body: string): string =>
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" ' +
    'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:tt="http://www.onvif.org/ver10/schema" ' +
    'xmlns:ter="http://www.onvif.org/ver10/error">' +
    `<SOAP-ENV:Body>${body}</SOAP-ENV:Body></SOAP-ENV:Envelope>`;

  const soapFault = (code: string, subcode: string, text: string): string =>
    soap(
      `<SOAP-ENV:Fault><SOAP-ENV:Code><SOAP-ENV:Value>SOAP-ENV:${code}</SOAP-ENV:Value>` +
        `<SOAP-ENV:Subcode><SOAP-ENV:Value>${subcode}</SOAP-ENV:Value></SOAP-ENV:Subcode></SOAP-ENV:Code>` +
        `<SOAP-ENV:Reason><SOAP-ENV:Text xml:lang="en">${text}</SOAP-ENV:Text></SOAP-ENV:Reason></SOAP-ENV:Fault>`,
    );

  const text = (xml: string, name: string): string | undefined =>
    new RegExp(`<(?:\\w+:)?${name}(?:\\s[^>]*)?>([^<]*)</(?:\\w+:)?${name}>`).exec(xml)?.[1];

  /** WS-UsernameToken PasswordDigest check, against the camera's (possibly skewed) clock. */
  const tokenValid = (xml: string): boolean => {
    if (!creds) return true;
    const user = text(xml, 'Username');
    const digest = text(xml, 'Password');
    const nonce = text(xml, 'Nonce');
    const created = text(xml, 'Created');
    if (user !== options.username || !digest || !nonce || !created) return false;
    const camNow = Date.now() + (options.clockSkewMs ?? 0);
    if (Math.abs(Date.parse(created) - camNow) > 60_000) return false;
    const expected = createHash('sha1')
      .update(Buffer.from(nonce, 'base64'))
      .update(created)
      .update(options.password!)
      .digest('base64');
    return digest === expected;
  };

  const sendXml = (res: ServerResponse, status: number, xml: string): void => {
    res.writeHead(status, { 'Content-Type': 'application/soap+xml; charset=utf-8' });
    res.end(xml);
  };

  const handleOnvif = (res: ServerResponse, body: string, fault: CameraFault): void => {
    const action = /GetSystemDateAndTime/.test(body)
      ? 'GetSystemDateAndTime'
      : /GetDeviceInformation/.test(body)
        ? 'GetDeviceInformation'
        : 'other';
    stats.httpRequests[action] = (stats.httpRequests[action] ?? 0) + 1;
    if (fault === 'http-500') {
      sendXml(res, 500, soapFault('Receiver', 'ter:Action', options.faultText ?? 'internal error'));
      return;
    }
    if (action === 'GetSystemDateAndTime') {
      const d = new Date(Date.now() + (options.clockSkewMs ?? 0));
      sendXml(
        res,
        200,
        soap(
          '<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType>' +
            '<tt:DaylightSavings>false</tt:DaylightSavings><tt:UTCDateTime>' +
            `<tt:Time><tt:Hour>${d.getUTCHours()}</tt:Hour><tt:Minute>${d.getUTCMinutes()}</tt:Minute><tt:Second>${d.getUTCSeconds()}</tt:Second></tt:Time>` +
            `<tt:Date><tt:Year>${d.getUTCFullYear()}</tt:Year><tt:Month>${d.getUTCMonth() + 1}</tt:Month><tt:Day>${d.getUTCDate()}</tt:Day></tt:Date>` +
            '</tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>',
        ),
      );
      return;
    }
    if (action === 'GetDeviceInformation') {
      if (fault === 'auth-rejected' || !tokenValid(body)) {
        sendXml(res, 400, soapFault('Sender', 'ter:NotAuthorized', options.faultText ?? 'Sender not Authorized'));
        return;
      }
      sendXml(
        res,
        200,
        soap(
          '<tds:GetDeviceInformationResponse>' +
            `<tds:Manufacturer>${options.manufacturer ?? 'SimCam &amp; Co'}</tds:Manufacturer>` +
            `<tds:Model>${options.model ?? 'SC-100'}</tds:Model>` +
            `<tds:FirmwareVersion>${firmware}</tds:FirmwareVersion>` +
            '<tds:SerialNumber>SIM0001</tds:SerialNumber><tds:HardwareId>1</tds:HardwareId>' +
            '</tds:GetDeviceInformationResponse>',
        ),
      );
      return;
    }
    sendXml(res, 400, soapFault('Sender', 'ter:ActionNotSupported', 'unsupported'));
  };

  const handleSnapshot = (req: IncomingMessage, res: ServerResponse, fault: CameraFault): void => {
    stats.httpRequests.snapshot = (stats.httpRequests.snapshot ?? 0) + 1;
    if (fault === 'http-500') {
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end('encoder error');
      return;
    }
    const scheme = options.snapshotAuth ?? 'digest';
    if (creds && (fault === 'auth-rejected' || !authorized(req.headers.authorization, 'GET', scheme))) {
      res.writeHead(401, { 'WWW-Authenticate': challenge(scheme), 'Content-Type': 'text/plain' }).end('unauthorized');
      return;
    }
    if (fault === 'snapshot-not-image') {
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html><body>No signal</body></html>');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': TINY_JPEG.length }).end(TINY_JPEG);
  };

  const httpServer = createHttpServer((req, res) => {
    const fault = faults.http;
    if (fault === 'hang') {
      // Headers and a fragment of body, then silence: the client must give up on its own.
      if ((req.url ?? '').startsWith(snapshotPath)) {
        res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': '50000' });
        res.write(TINY_JPEG.subarray(0, 2));
      } else {
        res.writeHead(200, { 'Content-Type': 'application/soap+xml', 'Content-Length': '4096' });
        res.write('<?xml version="1.0"?><SOAP-ENV:Envelope');
      }
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_REQUEST_BYTES) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      later(fault, () => {
        if (res.destroyed) return;
        const path = new URL(req.url ?? '/', 'http://sim').pathname;
        if (req.method === 'POST' && path === onvifPath) handleOnvif(res, Buffer.concat(chunks).toString('utf8'), fault);
        else if (req.method === 'GET' && path === snapshotPath) handleSnapshot(req, res, fault);
        else res.writeHead(404).end();
      });
    });
  });
  httpServer.on('connection', (s: Socket) => {
    httpSockets.add(s);
    s.on('close', () => httpSockets.delete(s));
  });

  let rtspPort = await listen(rtspServer, host, 0);
  let httpPort: number;
  try {
    httpPort = await listen(httpServer, host, 0);
  } catch (err) {
    await closeServer(rtspServer, rtspSockets);
    throw err;
  }

  const hostInUrl = host.includes(':') ? `[${host}]` : host;

  const sim: CameraSim = {
    host,
    get rtspPort() {
      return rtspPort;
    },
    get httpPort() {
      return httpPort;
    },
    streamPath,
    onvifPath,
    get snapshotUrl() {
      return `http://${hostInUrl}:${httpPort}${snapshotPath}`;
    },
    stats,
    async setFault(fault, service = 'all') {
      const targets: ('rtsp' | 'http')[] = service === 'all' ? ['rtsp', 'http'] : [service];
      for (const t of targets) {
        const server = t === 'rtsp' ? rtspServer : httpServer;
        const sockets = t === 'rtsp' ? rtspSockets : httpSockets;
        faults[t] = fault;
        if (fault === 'refused') await closeServer(server, sockets);
        else if (!server.listening) {
          // Same port again, so the driver under test keeps its config.
          const port = await listen(server, host, t === 'rtsp' ? rtspPort : httpPort);
          if (t === 'rtsp') rtspPort = port;
          else httpPort = port;
        }
        // Connections held open by a previous phase (a hang) must not linger into the next one.
        for (const s of sockets) s.destroy();
      }
    },
    setFirmware(version: string) {
      firmware = version;
    },
    async stop() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      httpServer.closeAllConnections();
      await Promise.all([closeServer(rtspServer, rtspSockets), closeServer(httpServer, httpSockets)]);
    },
  };
  return sim;
}
