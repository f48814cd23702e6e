import net from 'node:net';
import { listenOnLoopback } from '../broker/port.js';

/**
 * - pass: forward bytes both ways.
 * - reset: RST every open connection now, and every new one as it arrives (a firewall saying no).
 * - blackhole: keep sockets open but drop every byte both ways. From the client's side the
 *   connection is half-open; only its keepalive can tell. A connection that lost bytes is
 *   poisoned for good (an MQTT stream cannot resync), so it stays silent after `pass`.
 * - stall: stop reading both ways; kernel buffers fill and writers see backpressure. Nothing is
 *   lost: back in `pass`, the queued bytes flow on.
 * - refuse: close the listener so new connects get ECONNREFUSED; open connections carry on.
 */
export type FaultMode = 'pass' | 'reset' | 'blackhole' | 'stall' | 'refuse';

export interface FaultProxyOptions {
  target: { host: string; port: number };
  /** Default 0: a free port chosen by the kernel, kept for the proxy's life (also across `refuse`). */
  port?: number;
}

export interface FaultProxyStats {
  accepted: number;
  active: number;
  /** Bytes forwarded client→target and target→client. */
  bytesUp: number;
  bytesDown: number;
  /** Bytes swallowed by blackhole. */
  droppedUp: number;
  droppedDown: number;
  resets: number;
  /** Connections to the target that failed (target down). */
  upstreamErrors: number;
}

export interface FaultProxy {
  readonly port: number;
  readonly host: '127.0.0.1';
  /** The mode now. */
  readonly current: FaultMode;
  /** Switch mode; resolves when it is in force (listener closed or reopened, sockets reset). */
  mode(next: FaultMode): Promise<void>;
  /** RST all open connections once, without changing mode. */
  resetAll(): void;
  readonly stats: Readonly<FaultProxyStats>;
  stop(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket | null;
  /** Data handlers attached (target connected); until then the client must stay paused. */
  wired: boolean;
  poisoned: boolean;
}

const REBIND_TIMEOUT_MS = 3_000;

export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  let current: FaultMode = 'pass';
  let stopped = false;
  const pairs = new Set<Pair>();
  const stats: FaultProxyStats = {
    accepted: 0,
    active: 0,
    bytesUp: 0,
    bytesDown: 0,
    droppedUp: 0,
    droppedDown: 0,
    resets: 0,
    upstreamErrors: 0,
  };

  const reset = (pair: Pair): void => {
    stats.resets++;
    if (!pair.client.destroyed) pair.client.resetAndDestroy();
    if (pair.upstream && !pair.upstream.destroyed) pair.upstream.resetAndDestroy();
  };

  const applyFlow = (pair: Pair): void => {
    // Stall pauses reading; every other mode reads (blackhole reads in order to discard).
    // Resuming before the data handlers exist would throw the bytes away.
    if (!pair.wired) return;
    for (const s of [pair.client, pair.upstream]) {
      if (!s || s.destroyed) continue;
      if (current === 'stall') s.pause();
      else s.resume();
    }
  };

  /** Forward `from` → `to`, honouring the mode at the moment each chunk arrives. */
  const wire = (pair: Pair, from: net.Socket, to: net.Socket, up: boolean): void => {
    from.on('data', (chunk: Buffer) => {
      if (current === 'blackhole' || pair.poisoned) {
        pair.poisoned = true;
        if (up) stats.droppedUp += chunk.length;
        else stats.droppedDown += chunk.length;
        return;
      }
      if (up) stats.bytesUp += chunk.length;
      else stats.bytesDown += chunk.length;
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => {
          if (current !== 'stall') from.resume();
        });
      }
    });
    from.once('end', () => {
      if (!pair.poisoned) to.end();
    });
  };

  const onConnection = (client: net.Socket): void => {
    stats.accepted++;
    const pair: Pair = { client, upstream: null, wired: false, poisoned: false };
    client.on('error', () => undefined);
    if (current === 'reset') {
      pair.client.resetAndDestroy();
      stats.resets++;
      return;
    }
    pairs.add(pair);
    stats.active = pairs.size;
    const finish = (): void => {
      if (!pairs.delete(pair)) return;
      stats.active = pairs.size;
      client.destroy();
      pair.upstream?.destroy();
    };
    client.once('close', finish);
    if (current === 'blackhole') {
      // Like a dead route: the client's connect "succeeded" (we accepted) but nothing ever answers.
      pair.poisoned = true;
      client.on('data', (chunk: Buffer) => {
        stats.droppedUp += chunk.length;
      });
      return;
    }
    // Hold client bytes until the target is connected.
    client.pause();
    const upstream = net.connect({ host: opts.target.host, port: opts.target.port });
    pair.upstream = upstream;
    upstream.setNoDelay(true);
    client.setNoDelay(true);
    upstream.on('error', () => {
      stats.upstreamErrors++;
      // Tell the client the way a dead broker would: its connection is reset.
      if (!client.destroyed) client.resetAndDestroy();
    });
    upstream.once('close', finish);
    upstream.once('connect', () => {
      wire(pair, client, upstream, true);
      wire(pair, upstream, client, false);
      pair.wired = true;
      applyFlow(pair);
    });
  };

  let server = net.createServer(onConnection);
  await listen(server, opts.port ?? 0);
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fault proxy: listener has no TCP address');
  const port = address.port;

  return {
    port,
    host: '127.0.0.1',
    get current() {
      return current;
    },
    stats,
    async mode(next) {
      if (stopped) throw new Error('fault proxy: mode() after stop()');
      const previous = current;
      current = next;
      if (next === 'refuse' && previous !== 'refuse') {
        // close() stops accepting at once; its callback would wait for open connections to end,
        // which refuse deliberately leaves alone.
        server.close();
      } else if (previous === 'refuse' && next !== 'refuse') {
        server = net.createServer(onConnection);
        await listen(server, port);
      }
      if (next === 'reset') for (const pair of [...pairs]) reset(pair);
      for (const pair of pairs) applyFlow(pair);
    },
    resetAll() {
      for (const pair of [...pairs]) reset(pair);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const pair of [...pairs]) {
        pair.client.destroy();
        pair.upstream?.destroy();
      }
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function listen(server: net.Server, port: number): Promise<void> {
  try {
    await listenOnLoopback(server, port, REBIND_TIMEOUT_MS);
  } catch (err) {
    throw Object.assign(new Error(`fault proxy: cannot listen on 127.0.0.1:${port}: ${(err as Error).message}`), {
      code: (err as NodeJS.ErrnoException).code ?? 'EPROXYLISTEN',
      cause: err,
    });
  }
}
