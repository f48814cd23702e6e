import { connect, type Socket } from 'node:net';
import { toProbeError, type ProbeProgress } from './probe-result.js';

/** Reason attached when a probe's hard timeout fires; the runner maps it to ETIMEDOUT. */
export function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

/**
 * Open a TCP connection that is destroyed the moment `signal` aborts, whatever state it is in.
 * Marks `progress.connected` once the handshake completes.
 */
export function connectTcp(host: string, port: number, signal: AbortSignal, progress: ProbeProgress): Promise<Socket> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(abortError(signal));
      return;
    }
    const socket = connect({ host, port, noDelay: true });
    const onAbort = (): void => {
      socket.destroy();
      reject(abortError(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      progress.connected = true;
      resolve(socket);
    });
    socket.once('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(toProbeError(err, progress, `connect ${host}:${port}`));
    });
    // The abort listener stays while the socket lives so a later abort still destroys it.
    socket.once('close', () => signal.removeEventListener('abort', onAbort));
  });
}

export async function tcpProbe(host: string, port: number, signal: AbortSignal, progress: ProbeProgress): Promise<void> {
  const socket = await connectTcp(host, port, signal, progress);
  socket.destroy();
}
