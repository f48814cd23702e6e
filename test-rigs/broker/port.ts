import net from 'node:net';

/**
 * Asks the kernel for a free loopback port. Another process can take it before we bind it, so
 * callers that hand the port to a child process must retry on EADDRINUSE.
 */
export async function freeLoopbackPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') {
    throw new Error('freeLoopbackPort: the kernel returned no TCP address');
  }
  return address.port;
}

/** One connection attempt; resolves true if something accepted it. */
export function canConnect(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean): void => {
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export interface WaitForListeningOptions {
  host: string;
  port: number;
  timeoutMs: number;
  /** Checked between attempts so a crashed child fails fast instead of waiting out the timeout. */
  abort?: () => Error | null;
}

export async function waitForListening(opts: WaitForListeningOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const aborted = opts.abort?.();
    if (aborted) throw aborted;
    if (await canConnect(opts.host, opts.port)) return;
    if (Date.now() > deadline) {
      throw Object.assign(
        new Error(`nothing accepted connections on ${opts.host}:${opts.port} within ${opts.timeoutMs} ms`),
        { code: 'ETIMEDOUT' },
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Listen on 127.0.0.1:`port`, retrying EADDRINUSE for up to `retryMs`: a rig restarted on the
 * same port (broker restart, proxy after `refuse`) can find it lingering for a moment.
 */
export async function listenOnLoopback<S extends net.Server>(server: S, port: number, retryMs = 3_000): Promise<S> {
  const deadline = Date.now() + retryMs;
  for (;;) {
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
      return server;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
