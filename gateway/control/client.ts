import net from 'node:net';
import { createInterface } from 'node:readline';
import type { ControlRequest } from './protocol.js';
import { socketDirectoryAdvice } from './socket-directory.js';

/** Talk to a running daemon's control socket; errors say what a technician should check. */
export class ControlUnavailableError extends Error {
  readonly code = 'CONTROL_UNAVAILABLE';
}

function connect(path: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(path);
    s.once('connect', () => resolve(s));
    s.once('error', (err: NodeJS.ErrnoException) => {
      const why =
        (err.code === 'ENOENT' || err.code === 'ENOTDIR') && socketDirectoryAdvice(path) !== ''
          ? `is the gateway running? (systemctl status edge-gateway) ${socketDirectoryAdvice(path)}`
          : err.code === 'ENOENT' || err.code === 'ECONNREFUSED'
          ? 'is the gateway running? (systemctl status edge-gateway)'
          : err.code === 'EACCES'
            ? 'permission denied: run as root or as a member of the edge-gateway-ops group (usermod -a -G edge-gateway-ops NAME, then log in again)'
            : err.message;
      reject(new ControlUnavailableError(`cannot reach the gateway at ${path}: ${why}`, { cause: err }));
    });
  });
}

/** One request, one JSON response. */
export async function request<T>(path: string, req: ControlRequest, timeoutMs = 10_000): Promise<T> {
  const socket = await connect(path);
  socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer from ${path} within ${timeoutMs} ms`)));
  socket.write(`${JSON.stringify(req)}\n`);
  let text = '';
  socket.setEncoding('utf8');
  for await (const chunk of socket) text += chunk as string;
  const parsed = JSON.parse(text) as T & { type?: string; message?: string };
  if (parsed?.type === 'error') throw new Error(`gateway refused the request: ${parsed.message}`);
  return parsed;
}

/** Lines of a streaming request (tail) until the daemon or the caller closes the socket. */
export async function* stream<T>(path: string, req: ControlRequest, signal?: AbortSignal): AsyncGenerator<T> {
  const socket = await connect(path);
  signal?.addEventListener('abort', () => socket.destroy());
  socket.write(`${JSON.stringify(req)}\n`);
  for await (const line of createInterface({ input: socket })) {
    if (line.trim() !== '') yield JSON.parse(line) as T;
  }
}
