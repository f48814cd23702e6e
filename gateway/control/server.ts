import { chmodSync, mkdirSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { CommittedRun } from '../group-commit.js';
import { MAX_REQUEST_BYTES, type ControlError, type ControlRequest, type TailLine } from './protocol.js';

/**
 * The daemon's local control socket (unix, mode 0660): what `edge-gateway status`, `tail` and
 * `reload` talk to. It only reads state and triggers a reload; it never touches the outbox.
 * A second daemon started on the same config finds the socket answering and refuses to run,
 * which also keeps two forwarders off one outbox.
 */
export interface ControlHandlers {
  status(): unknown;
  reload(): Promise<unknown>;
}

interface TailClient {
  socket: net.Socket;
  device?: string;
  stream?: 'event' | 'telemetry';
  skipped: number;
}

export class ControlServer {
  private server: net.Server | null = null;
  private readonly tails = new Set<TailClient>();

  constructor(
    readonly path: string,
    private readonly handlers: ControlHandlers,
    private readonly log: Logger,
  ) {}

  async listen(): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true });
    const server = net.createServer((socket) => this.onConnection(socket));
    try {
      await listenOn(server, this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      if (await answers(this.path)) {
        throw Object.assign(new Error(`another edge-gateway is running: its control socket ${this.path} answers`), { code: 'ALREADY_RUNNING' });
      }
      // A socket file left behind by a daemon that was killed: nobody listens, take it over.
      unlinkSync(this.path);
      await listenOn(server, this.path);
    }
    chmodSync(this.path, 0o660);
    this.server = server;
  }

  private onConnection(socket: net.Socket): void {
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('error', () => socket.destroy());
    const onData = (chunk: string) => {
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl < 0) {
        if (buffered.length > MAX_REQUEST_BYTES) this.fail(socket, 'BAD_REQUEST', 'request line too long');
        return;
      }
      socket.off('data', onData);
      let req: ControlRequest;
      try {
        req = JSON.parse(buffered.slice(0, nl)) as ControlRequest;
      } catch {
        this.fail(socket, 'BAD_REQUEST', 'request is not JSON');
        return;
      }
      void this.handle(socket, req);
    };
    socket.on('data', onData);
  }

  private async handle(socket: net.Socket, req: ControlRequest): Promise<void> {
    try {
      switch (req.cmd) {
        case 'status':
          socket.end(`${JSON.stringify(this.handlers.status())}\n`);
          return;
        case 'reload':
          socket.end(`${JSON.stringify(await this.handlers.reload())}\n`);
          return;
        case 'tail': {
          const client: TailClient = { socket, device: req.device, stream: req.stream, skipped: 0 };
          this.tails.add(client);
          socket.on('close', () => this.tails.delete(client));
          socket.on('drain', () => {
            if (client.skipped > 0) {
              socket.write(`${JSON.stringify({ type: 'skipped', count: client.skipped })}\n`);
              client.skipped = 0;
            }
          });
          return;
        }
        default:
          this.fail(socket, 'UNKNOWN_COMMAND', `unknown command ${JSON.stringify((req as { cmd?: unknown }).cmd)}`);
      }
    } catch (err) {
      this.log.error({ err, cmd: req.cmd }, 'control request failed');
      this.fail(socket, 'FAILED', (err as Error).message);
    }
  }

  private fail(socket: net.Socket, code: string, message: string): void {
    const e: ControlError = { type: 'error', code, message };
    socket.end(`${JSON.stringify(e)}\n`);
  }

  /** Feed committed readings to `tail` clients; a slow client skips lines instead of buffering them. */
  publishCommitted(runs: readonly CommittedRun[]): void {
    if (this.tails.size === 0) return;
    for (const client of this.tails) {
      for (const run of runs) {
        if (client.stream && client.stream !== run.stream) continue;
        run.readings.forEach((r, i) => {
          if (client.device && r.device !== client.device) return;
          if (client.socket.writableNeedDrain) {
            client.skipped++;
            return;
          }
          const line: TailLine = { type: 'reading', seq: run.firstSeq + i, device: r.device, point: r.point, value: r.value, unit: r.unit, quality: r.quality, ts: r.ts, kind: r.kind === 'event' ? 'event' : undefined, attrs: r.attrs };
          client.socket.write(`${JSON.stringify(line)}\n`);
        });
      }
    }
  }

  async close(): Promise<void> {
    for (const t of this.tails) t.socket.destroy();
    this.tails.clear();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}

function listenOn(server: net.Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
