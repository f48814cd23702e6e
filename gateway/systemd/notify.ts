/**
 * sd_notify(3) for a Node daemon: READY=1, RELOADING=1, STOPPING=1, WATCHDOG=1, STATUS=...
 *
 * The protocol is one datagram to the AF_UNIX socket named by $NOTIFY_SOCKET, but Node has no
 * AF_UNIX SOCK_DGRAM support (nodejs/node#29339, #61933) and we add no native addon to a Pi
 * deployment just for this. Each message is handed to `systemd-notify`, which:
 *  - ships in the same package as the service manager, so it is present wherever NOTIFY_SOCKET
 *    can be set and always speaks that manager's dialect (abstract sockets, credentials);
 *  - since systemd 246 waits on a barrier until the manager has processed the message, which
 *    removes the old race where a short-lived sender exited before systemd could attribute the
 *    datagram to our unit (Debian 12 / Raspberry Pi OS bookworm ship 252).
 * The cost is one short process per message (a few ms, every WatchdogSec/2), and the unit needs
 * NotifyAccess=all because the datagram's sender PID is the helper's, not MAINPID. A persistent
 * python3/socat helper would need the same NotifyAccess and is not guaranteed to be installed.
 *
 * Contract with callers: no-op when NOTIFY_SOCKET is unset; never throws or rejects; a failure
 * is logged once per failure streak (and recovery is logged), then the daemon carries on.
 */
import { spawn } from 'node:child_process';
import type { Logger } from 'pino';

export type NotifyErrorCode =
  | 'SD_NOTIFY_BAD_SOCKET'
  | 'SD_NOTIFY_SPAWN_FAILED'
  | 'SD_NOTIFY_REJECTED'
  | 'SD_NOTIFY_TIMEOUT'
  | 'SD_NOTIFY_QUEUE_FULL';

export interface SystemdNotifier {
  /** False when there is no service manager to talk to; every call is then a resolved no-op. */
  readonly enabled: boolean;
  /** Resolve true once the manager took the message, false if it could not be delivered. */
  ready(status?: string): Promise<boolean>;
  /** Start of a reload (SIGHUP); follow with ready() when the new config is in effect. */
  reloading(status?: string): Promise<boolean>;
  stopping(status?: string): Promise<boolean>;
  watchdog(): Promise<boolean>;
  status(text: string): Promise<boolean>;
}

export interface NotifierOptions {
  log: Logger;
  /** Where NOTIFY_SOCKET and PATH come from; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** The helper binary; overridable so tests can exercise a missing or failing helper. */
  command?: string;
  /** Kill a helper that has not finished by then (the barrier waits on the manager). */
  timeoutMs?: number;
}

interface Pending {
  fields: [string, string][];
  resolve(delivered: boolean): void;
}

// Pings and status lines are tiny and regenerated on the next tick; a backlog beyond this means
// the helper is stuck, and holding more would only delay the message that matters (STOPPING=1).
const MAX_QUEUE = 16;
const STDERR_LIMIT = 2048;
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Values are one line each in the datagram; anything else would inject extra assignments. */
function oneLine(value: string): string {
  return value.replace(/[\r\n]+/g, ' ').slice(0, 1024);
}

export function createSystemdNotifier(options: NotifierOptions): SystemdNotifier {
  const env = options.env ?? process.env;
  const log = options.log.child({ component: 'sd-notify' });
  const socket = env.NOTIFY_SOCKET ?? '';
  const command = options.command ?? 'systemd-notify';
  const timeoutMs = options.timeoutMs ?? 10_000;

  if (socket === '') return disabledNotifier();
  if (!socket.startsWith('/') && !socket.startsWith('@')) {
    log.warn(
      { code: 'SD_NOTIFY_BAD_SOCKET', socket },
      'NOTIFY_SOCKET is neither a path nor an abstract socket name; systemd notifications disabled',
    );
    return disabledNotifier();
  }

  const queue: Pending[] = [];
  let busy = false;
  let failures = 0;

  const reportFailure = (code: NotifyErrorCode, message: string, fields: [string, string][]) => {
    failures += 1;
    if (failures === 1) {
      log.warn(
        { code, socket, command, message: fields.map(([k]) => k).join(',') },
        `systemd notification failed: ${message}; the daemon keeps running, further failures are counted silently`,
      );
    }
  };

  const deliver = (fields: [string, string][]): Promise<boolean> =>
    new Promise((resolve) => {
      const args = fields.map(([k, v]) => `${k}=${v}`);
      let stderr = '';
      let settled = false;
      const finish = (ok: boolean, code?: NotifyErrorCode, message?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (ok) {
          if (failures > 0) log.info({ socket, failures }, 'systemd notifications delivered again');
          failures = 0;
        } else {
          reportFailure(code!, message!, fields);
        }
        resolve(ok);
      };
      // A minimal environment: the helper needs nothing else, and should see no secrets.
      const child = spawn(command, args, {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { PATH: env.PATH ?? DEFAULT_PATH, NOTIFY_SOCKET: socket },
      });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        finish(false, 'SD_NOTIFY_TIMEOUT', `${command} did not finish within ${timeoutMs} ms`);
      }, timeoutMs);
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => {
        if (stderr.length < STDERR_LIMIT) stderr += chunk;
      });
      child.once('error', (err: NodeJS.ErrnoException) =>
        finish(false, 'SD_NOTIFY_SPAWN_FAILED', `cannot run ${command} (${err.code ?? err.message})`),
      );
      child.once('close', (exitCode, signal) => {
        if (exitCode === 0) finish(true);
        else
          finish(
            false,
            'SD_NOTIFY_REJECTED',
            `${command} exited with ${signal ?? `code ${exitCode}`}: ${stderr.trim() || 'no message'}`,
          );
      });
    });

  const pump = async () => {
    if (busy) return;
    busy = true;
    try {
      for (let next = queue.shift(); next; next = queue.shift()) {
        next.resolve(await deliver(next.fields));
      }
    } finally {
      busy = false;
    }
  };

  const send = (fields: [string, string][]): Promise<boolean> => {
    const isPing = fields.length === 1 && fields[0]![0] === 'WATCHDOG';
    // A ping already waiting says the same thing; a second one would only lengthen the queue.
    const queuedPing = isPing ? queue.find((p) => p.fields.length === 1 && p.fields[0]![0] === 'WATCHDOG') : undefined;
    if (queuedPing) {
      return new Promise((resolve) => {
        const earlier = queuedPing.resolve;
        queuedPing.resolve = (delivered) => {
          earlier(delivered);
          resolve(delivered);
        };
      });
    }
    if (queue.length >= MAX_QUEUE) {
      reportFailure('SD_NOTIFY_QUEUE_FULL', `${queue.length} notifications already waiting for ${command}`, fields);
      return Promise.resolve(false);
    }
    return new Promise((resolve) => {
      queue.push({ fields, resolve });
      void pump();
    });
  };

  const withStatus = (fields: [string, string][], status?: string): [string, string][] =>
    status === undefined ? fields : [...fields, ['STATUS', oneLine(status)]];

  return {
    enabled: true,
    ready: (status) => send(withStatus([['READY', '1']], status)),
    // MONOTONIC_USEC lets systemd >= 253 tie this reload to the request it sent (notify-reload);
    // older managers ignore the field. hrtime is CLOCK_MONOTONIC on Linux, like systemd's.
    reloading: (status) =>
      send(withStatus([['RELOADING', '1'], ['MONOTONIC_USEC', String(process.hrtime.bigint() / 1000n)]], status)),
    stopping: (status) => send(withStatus([['STOPPING', '1']], status)),
    watchdog: () => send([['WATCHDOG', '1']]),
    status: (text) => send([['STATUS', oneLine(text)]]),
  };
}

function disabledNotifier(): SystemdNotifier {
  const skip = () => Promise.resolve(false);
  return { enabled: false, ready: skip, reloading: skip, stopping: skip, watchdog: skip, status: skip };
}
