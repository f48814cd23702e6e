/**
 * Stands in for systemd's notification socket: a real AF_UNIX SOCK_DGRAM socket that records every
 * datagram sent to it. Node cannot open unix datagram sockets, so a short python3 child owns the
 * socket and reports each datagram as one JSON line on stdout.
 *
 * Point `NOTIFY_SOCKET` of the code under test (or of a whole daemon) at `socketPath`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';

// The child exits on its own when its stdin closes, so a crashed test run cannot leak it.
// Ancillary data is not requested: systemd-notify's barrier fd is then closed by the kernel on
// receipt, which is exactly the "message processed" signal the sender waits for.
const LISTENER_PY = `
import json, os, select, socket, sys, time
addr = sys.argv[1]
if addr.startswith('@'):
    addr = '\\0' + addr[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(addr)
print(json.dumps({"bound": True}), flush=True)
while True:
    r, _, _ = select.select([s, sys.stdin], [], [])
    if sys.stdin in r and not os.read(sys.stdin.fileno(), 4096):
        break
    if s in r:
        data = s.recv(65536)
        print(json.dumps({"dgram": data.decode("utf-8", "replace"), "t": time.time() * 1000}), flush=True)
`;

export interface NotifyListener {
  /** Value for NOTIFY_SOCKET: a filesystem path, or `@name` for the abstract namespace. */
  readonly socketPath: string;
  /** Every datagram received so far, in arrival order (including systemd-notify's BARRIER=1). */
  readonly messages: readonly string[];
  /**
   * Wall-clock ms at which each message was received, parallel to `messages`. The daemon's log
   * arrives on another pipe, so ordering between a log line and a notification must be judged by
   * these stamps and the log's own `time`, never by which pipe the test happened to read first.
   */
  readonly receivedAt: readonly number[];
  /**
   * Resolve with the first message at index >= `after` that matches; reject after `timeoutMs`
   * with an error listing what did arrive.
   */
  waitFor(pattern: string | RegExp, timeoutMs?: number, after?: number): Promise<{ message: string; index: number; receivedAt: number }>;
  stop(): Promise<void>;
}

export interface NotifyListenerOptions {
  /** Bind in the Linux abstract namespace (NOTIFY_SOCKET=@name), as systemd may hand out. */
  abstract?: boolean;
  startTimeoutMs?: number;
}

/** Split a notification datagram into its KEY=value assignments. */
export function parseNotification(message: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of message.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) fields[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return fields;
}

export async function startNotifyListener(options: NotifyListenerOptions = {}): Promise<NotifyListener> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-gw-notify-'));
  const socketPath = options.abstract
    ? `@edge-gw-notify-${process.pid}-${randomBytes(6).toString('hex')}`
    : join(dir, 'notify.sock');
  const messages: string[] = [];
  const receivedAt: number[] = [];
  const waiters = new Set<() => void>();
  const child: ChildProcess = spawn('python3', ['-c', LISTENER_PY, socketPath], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    if (stderr.length < 4096) stderr += chunk;
  });

  const bound = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`notify listener did not bind ${socketPath} within ${options.startTimeoutMs ?? 5000} ms: ${stderr}`)),
      options.startTimeoutMs ?? 5000,
    );
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`notify listener could not start python3: ${err.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`notify listener exited (code ${code}) before binding ${socketPath}: ${stderr}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const parsed = JSON.parse(line) as { bound?: true; dgram?: string; t?: number };
      if (parsed.bound) {
        clearTimeout(timer);
        resolve();
      } else if (parsed.dgram !== undefined) {
        messages.push(parsed.dgram);
        receivedAt.push(parsed.t ?? Date.now());
        for (const wake of waiters) wake();
      }
    });
  });

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.stdin?.end();
      const kill = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(kill);
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await bound;
  } catch (err) {
    await stop();
    throw err;
  }

  const waitFor: NotifyListener['waitFor'] = (pattern, timeoutMs = 5000, after = 0) =>
    new Promise((resolve, reject) => {
      const matches = (m: string) => (typeof pattern === 'string' ? m.includes(pattern) : pattern.test(m));
      const check = (): boolean => {
        for (let i = after; i < messages.length; i++) {
          const message = messages[i]!;
          if (matches(message)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve({ message, index: i, receivedAt: receivedAt[i]! });
            return true;
          }
        }
        return false;
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no notification matching ${String(pattern)} (from index ${after}) within ${timeoutMs} ms; got ${JSON.stringify(messages)}`));
      }, timeoutMs);
      if (!check()) waiters.add(check);
    });

  return { socketPath, messages, receivedAt, waitFor, stop };
}
