import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { AedesProcess } from './aedes-process.js';
import { BrokerError } from './errors.js';
import { LogTail } from './log-tail.js';
import { MosquittoProcess } from './mosquitto-process.js';
import { freeLoopbackPort } from './port.js';
import { makeTestCertificates, type TestCertificates } from './tls-certs.js';

export type BrokerKind = 'mosquitto' | 'aedes';

export const MOSQUITTO_BINARY = '/usr/sbin/mosquitto';
/** `mosquitto` (CI: a missing binary is a failure), `aedes` (force embedded), unset/`auto`. */
export const BROKER_ENV = 'EDGE_GATEWAY_BROKER';

export interface BrokerOptions {
  /** Overrides EDGE_GATEWAY_BROKER. */
  kind?: BrokerKind;
  /** Keep persistent sessions and their queued QoS 1 messages across stop()/start()/kill(). */
  persistence?: boolean;
  /** Require this user name and password; anonymous clients are refused. */
  auth?: { username: string; password: string };
  /** Add a TLS listener with throw-away certificates (see `certs`). */
  tls?: boolean | { requireClientCert?: boolean };
  mosquittoBinary?: string;
  /**
   * Run mosquitto in a process group of its own, so that a terminal's Ctrl-C reaches only the
   * caller (the demo), which then stops everything in order instead of racing the broker's exit.
   */
  ownProcessGroup?: boolean;
}

export interface BrokerFixture {
  /** Plain TCP listener: `mqtt://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  readonly kind: BrokerKind;
  /** Present when `tls` was asked for: `mqtts://127.0.0.1:<tlsPort>`. */
  readonly tlsUrl?: string;
  readonly tlsPort?: number;
  readonly certs?: TestCertificates;
  readonly auth?: { username: string; password: string };
  readonly isRunning: boolean;
  /** Start again after stop()/kill(), on the same port(s). */
  start(): Promise<void>;
  /** Graceful: SIGTERM for mosquitto (it saves its database). */
  stop(): Promise<void>;
  /** SIGKILL: nothing is flushed, clients see their sockets die. */
  kill(): Promise<void>;
  /** The broker's log so far (last lines); the full log is in `logFile`. */
  logTail(lines?: number): string;
  readonly logFile: string;
  /** stop() and delete the temp dir (config, log, database, certificates). */
  dispose(): Promise<void>;
}

interface BrokerRunner {
  readonly running: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  kill(): Promise<void>;
  dispose(): Promise<void>;
}

const START_ATTEMPTS = 3;

export function chooseBrokerKind(
  requested: BrokerKind | undefined,
  env: string | undefined,
  mosquittoBinary: string,
): BrokerKind {
  if (requested) return requested;
  const want = env?.trim().toLowerCase() ?? '';
  if (want === 'aedes') return 'aedes';
  if (want !== '' && want !== 'auto' && want !== 'mosquitto') {
    throw new BrokerError(
      'BROKER_BAD_ENV',
      `${BROKER_ENV}=${env} is not understood; use mosquitto, aedes or auto`,
    );
  }
  const present = isExecutable(mosquittoBinary);
  if (want === 'mosquitto' && !present) {
    throw new BrokerError(
      'BROKER_UNAVAILABLE',
      `${BROKER_ENV}=mosquitto but ${mosquittoBinary} is missing or not executable; ` +
        'install the Debian package "mosquitto" or unset the variable to fall back to aedes',
    );
  }
  return present ? 'mosquitto' : 'aedes';
}

export async function startBroker(opts: BrokerOptions = {}): Promise<BrokerFixture> {
  const binary = opts.mosquittoBinary ?? MOSQUITTO_BINARY;
  const kind = chooseBrokerKind(opts.kind, process.env[BROKER_ENV], binary);
  const workDir = mkdtempSync(path.join(os.tmpdir(), `edge-gw-${kind}-`));
  const log = new LogTail(path.join(workDir, 'broker.log'));
  try {
    const certs = opts.tls ? await makeTestCertificates(workDir) : undefined;
    const requireClientCert = typeof opts.tls === 'object' && opts.tls.requireClientCert === true;
    const passwordFile = opts.auth && kind === 'mosquitto' ? await writePasswordFile(workDir, opts.auth) : undefined;

    // A free port can be taken between probing and binding; only the first start may move.
    let lastError: unknown;
    for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
      const port = await freeLoopbackPort();
      const tlsPort = certs ? await freeLoopbackPort() : undefined;
      const tls =
        certs && tlsPort !== undefined
          ? {
              port: tlsPort,
              caFile: certs.caFile,
              certFile: certs.serverCertFile,
              keyFile: certs.serverKeyFile,
              requireClientCert,
            }
          : undefined;
      const runner: BrokerRunner =
        kind === 'mosquitto'
          ? new MosquittoProcess(binary, workDir, {
              port,
              persistenceDir: opts.persistence ? workDir : undefined,
              passwordFile,
              tls,
              runAsRoot: process.getuid?.() === 0,
            }, log, opts.ownProcessGroup === true)
          : new AedesProcess({ port, persistence: opts.persistence === true, auth: opts.auth, tls }, log);
      try {
        await runner.start();
      } catch (err) {
        lastError = err;
        if ((err as { addrInUse?: boolean }).addrInUse) continue;
        throw err;
      }
      announce(kind, port, binary, opts);
      return fixture(kind, port, tlsPort, certs, opts.auth, runner, log, workDir);
    }
    throw lastError;
  } catch (err) {
    rmSync(workDir, { recursive: true, force: true });
    throw err;
  }
}

function fixture(
  kind: BrokerKind,
  port: number,
  tlsPort: number | undefined,
  certs: TestCertificates | undefined,
  auth: BrokerOptions['auth'],
  runner: BrokerRunner,
  log: LogTail,
  workDir: string,
): BrokerFixture {
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    kind,
    ...(tlsPort !== undefined ? { tlsUrl: `mqtts://127.0.0.1:${tlsPort}`, tlsPort } : {}),
    ...(certs ? { certs } : {}),
    ...(auth ? { auth } : {}),
    get isRunning() {
      return runner.running;
    },
    start: () => runner.start(),
    stop: () => runner.stop(),
    kill: () => runner.kill(),
    logTail: (lines) => log.tail(lines),
    logFile: log.file,
    async dispose() {
      await runner.dispose();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}

function announce(kind: BrokerKind, port: number, binary: string, opts: BrokerOptions): void {
  // Loud on purpose: aedes differs from mosquitto in edge cases (session expiry, queue limits),
  // so a reader of a failed run must know which broker it ran against.
  const extras = [opts.persistence ? 'persistence' : '', opts.tls ? 'tls' : '', opts.auth ? 'auth' : '']
    .filter(Boolean)
    .join(', ');
  const line =
    kind === 'mosquitto'
      ? `[broker] using REAL mosquitto (${binary}) on 127.0.0.1:${port}${extras ? ` [${extras}]` : ''}`
      : `[broker] using EMBEDDED aedes on 127.0.0.1:${port}${extras ? ` [${extras}]` : ''} — ` +
        `${isExecutable(binary) ? 'forced by option or env' : `${binary} not found`}; ` +
        `set ${BROKER_ENV}=mosquitto to require the real broker`;
  process.stderr.write(`${line}\n`);
}

async function writePasswordFile(dir: string, auth: { username: string; password: string }): Promise<string> {
  const file = path.join(dir, 'passwd');
  await promisify(execFile)('mosquitto_passwd', ['-c', '-b', file, auth.username, auth.password]);
  return file;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
