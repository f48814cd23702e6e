import { chmodSync, chownSync, mkdirSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { CommittedRun } from '../group-commit.js';
import { groupId } from './group-id.js';
import { ACTUATE_COMMANDS, MAX_REQUEST_BYTES, parseRequest, REQUEST_SHAPE, type ControlCommand, type ControlError, type ControlRequest, type TailLine } from './protocol.js';

/**
 * The daemon's local control socket (unix, mode 0660): what `edge-gateway status`, `tail` and
 * `reload` talk to. It only reads state and triggers a reload; it never touches the outbox.
 * A second daemon started on the same config finds the socket answering and refuses to run,
 * which also keeps two forwarders off one outbox.
 */
export interface ControlHandlers {
  status(): unknown;
  reload(): Promise<unknown>;
  /** The command journal (`edge-gateway commands`). */
  commands?(req: Extract<ControlRequest, { cmd: 'commands' }>): unknown;
  /** A technician's write or pulse; answered with the command's final outcome. */
  actuate?(req: Extract<ControlRequest, { cmd: 'write' | 'pulse' }>): Promise<unknown>;
}

export interface SocketAccess {
  /** The requests this socket serves (default OPS_COMMANDS); others are refused with FORBIDDEN. */
  serves?: readonly ControlCommand[];
  /**
   * Hand the socket to this group (mode 0660). If the group does not exist, or the daemon may not
   * give the socket to it, the socket is made owner-only: nobody else can use it by accident.
   * Without it the socket keeps the group of its directory (the unit makes that edge-gateway-ops).
   */
  group?: string;
}

/** What the ops socket serves: reading state and reloading, never moving equipment. */
export const OPS_COMMANDS: readonly ControlCommand[] = ['status', 'reload', 'tail', 'commands'];

interface TailClient {
  socket: net.Socket;
  device?: string;
  stream?: 'event' | 'telemetry';
  skipped: number;
}

export interface ControlLimits {
  /**
   * Connections open at once (tail clients included). At the cap, the oldest connection that has
   * not sent its request yet is closed to make room; only when every slot is serving are new
   * connections refused with a message.
   */
  maxConnections: number;
  /**
   * How long a client may take to send its whole request line, counted from accept and again
   * from its first byte (a deadline, not an idle timer); then it is told so and closed.
   */
  requestTimeoutMs: number;
}

export const DEFAULT_CONTROL_LIMITS: ControlLimits = { maxConnections: 32, requestTimeoutMs: 5000 };

/** After an error answer, how long a client that keeps the socket open is waited for. */
const LINGER_AFTER_ERROR_MS = 1000;

export class ControlServer {
  private server: net.Server | null = null;
  private readonly tails = new Set<TailClient>();
  private readonly open = new Set<net.Socket>();
  /** Open connections still waiting for their request line, oldest first. */
  private readonly unsent = new Set<net.Socket>();
  private refused = 0;
  private evicted = 0;
  private lastAcceptErrorLogMs = 0;

  constructor(
    readonly path: string,
    private readonly handlers: ControlHandlers,
    private readonly log: Logger,
    private readonly limits: ControlLimits = DEFAULT_CONTROL_LIMITS,
    private readonly access: SocketAccess = {},
  ) {}

  private get serves(): readonly ControlCommand[] {
    return this.access.serves ?? OPS_COMMANDS;
  }

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
    chmodSync(this.path, this.access.group === undefined || this.giveToGroup(this.access.group) ? 0o660 : 0o600);
    // accept() fails with EMFILE/ENFILE when the process is out of file descriptors; without a
    // listener that error would end the process. libuv already closes the pending connection.
    server.on('error', (err: NodeJS.ErrnoException) => {
      const now = Date.now();
      if (now - this.lastAcceptErrorLogMs < 10_000) return;
      this.lastAcceptErrorLogMs = now;
      this.log.error({ err, code: err.code, open: this.open.size }, 'control socket could not accept a connection (out of file descriptors?); the daemon keeps running');
    });
    this.server = server;
  }

  private giveToGroup(group: string): boolean {
    const gid = groupId(group);
    try {
      if (gid === null) throw new Error(`group ${group} does not exist (groupadd --system ${group})`);
      chownSync(this.path, -1, gid);
      return true;
    } catch (err) {
      this.log.warn({ socket: this.path, group, err: (err as Error).message }, 'could not give the socket to its group: only its owner can use it');
      return false;
    }
  }

  /** Connections open right now, refused over the cap and evicted to make room since start. */
  stats(): { open: number; refused: number; evicted: number } {
    return { open: this.open.size, refused: this.refused, evicted: this.evicted };
  }

  private onConnection(socket: net.Socket): void {
    socket.on('error', () => socket.destroy());
    if (this.open.size >= this.limits.maxConnections && !this.evictOldestUnsent()) {
      this.refused++;
      if (this.refused === 1 || this.refused % 1000 === 0) {
        this.log.warn({ open: this.open.size, maxConnections: this.limits.maxConnections, refused: this.refused }, 'control socket: too many connections, refusing new ones');
      }
      this.fail(socket, 'TOO_MANY_CONNECTIONS', `the gateway already serves ${this.limits.maxConnections} control connections (the limit); close idle ones (e.g. other "edge-gateway tail" sessions) and try again`);
      return;
    }
    this.open.add(socket);
    this.unsent.add(socket);
    socket.on('close', () => {
      this.open.delete(socket);
      this.unsent.delete(socket);
      clearTimeout(deadline);
    });
    let buffered = '';
    socket.setEncoding('utf8');
    // A deadline, not an idle timer: a client trickling one byte at a time must not hold a
    // connection (and its file descriptor) any longer than one that sends nothing. The clock
    // starts at accept and starts once more at the first byte, so a request has the full time.
    const timeout = this.limits.requestTimeoutMs;
    const expire = () => {
      socket.off('data', onData);
      this.unsent.delete(socket);
      this.fail(socket, 'REQUEST_TIMEOUT', `no complete request line within ${timeout} ms; ${REQUEST_SHAPE}`);
    };
    let deadline = setTimeout(expire, timeout);
    const onData = (chunk: string) => {
      if (buffered === '') {
        clearTimeout(deadline);
        deadline = setTimeout(expire, timeout);
      }
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      // The cap holds for every line, also one that arrives whole with its newline in one write.
      const line = nl < 0 ? buffered : buffered.slice(0, nl);
      if (Buffer.byteLength(line) > MAX_REQUEST_BYTES) {
        socket.off('data', onData);
        buffered = '';
        clearTimeout(deadline);
        this.unsent.delete(socket);
        this.fail(socket, 'BAD_REQUEST', `request line too long (limit ${MAX_REQUEST_BYTES} bytes); ${REQUEST_SHAPE}`);
        return;
      }
      if (nl < 0) return;
      socket.off('data', onData);
      clearTimeout(deadline);
      this.unsent.delete(socket);
      buffered = '';
      const parsed = parseRequest(line);
      if (!parsed.ok) {
        this.fail(socket, parsed.error.code, parsed.error.message);
        return;
      }
      this.handle(socket, parsed.req).catch((err: unknown) => this.log.error({ err, cmd: parsed.req.cmd }, 'control request failed after answering'));
    };
    socket.on('data', onData);
  }

  /**
   * At the connection cap, a connection that has not yet sent its request line gives way to the
   * new one (the oldest first). Otherwise clients that connect and trickle bytes would keep
   * `status` out for as long as they like; only served connections (tail) can fill the cap.
   */
  private evictOldestUnsent(): boolean {
    const oldest = this.unsent.values().next();
    if (oldest.done) return false;
    const socket = oldest.value;
    this.unsent.delete(socket);
    this.open.delete(socket);
    this.evicted++;
    if (this.evicted === 1 || this.evicted % 1000 === 0) {
      this.log.warn({ evicted: this.evicted, maxConnections: this.limits.maxConnections }, 'control socket: at the connection limit, closing the oldest connection that has sent no complete request');
    }
    const e: ControlError = { type: 'error', code: 'EVICTED', message: `closed before a complete request line arrived: the gateway serves at most ${this.limits.maxConnections} control connections and needed this one's slot; ${REQUEST_SHAPE}` };
    // Best effort: the answer goes to the kernel's socket buffer before the descriptor is freed.
    if (!socket.destroyed) socket.write(`${JSON.stringify(e)}\n`);
    socket.destroy();
    return true;
  }

  /** One request; whatever goes wrong is logged with the command and answered, never thrown. */
  private async handle(socket: net.Socket, req: ControlRequest): Promise<void> {
    if (!this.serves.includes(req.cmd)) {
      const actuate = (ACTUATE_COMMANDS as readonly string[]).includes(req.cmd);
      this.fail(socket, 'FORBIDDEN', actuate ? `${req.cmd} moves equipment: it is served only on the actuate socket (group edge-gateway-actuate), not on ${this.path}` : `${req.cmd} is not served on ${this.path}`);
      return;
    }
    try {
      switch (req.cmd) {
        case 'commands':
          if (!this.handlers.commands) throw new Error('this gateway has no command journal');
          socket.end(`${JSON.stringify(this.handlers.commands(req))}\n`);
          return;
        case 'write':
        case 'pulse':
          if (!this.handlers.actuate) throw new Error('this gateway carries out no commands');
          socket.end(`${JSON.stringify(await this.handlers.actuate(req))}\n`);
          return;
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
      }
    } catch (err) {
      this.log.error({ err, cmd: req.cmd }, 'control request failed');
      this.fail(socket, 'FAILED', (err as Error)?.message ?? String(err));
    }
  }

  /** Answer with an error and close; a client that keeps its end open is cut off shortly after. */
  private fail(socket: net.Socket, code: string, message: string): void {
    const e: ControlError = { type: 'error', code, message };
    if (socket.destroyed) return;
    socket.setTimeout(0);
    // Whatever else the client sends is not read at all: reading it only to discard it would
    // let one client make the daemon churn through megabytes of garbage.
    socket.pause();
    socket.end(`${JSON.stringify(e)}\n`);
    const linger = setTimeout(() => socket.destroy(), LINGER_AFTER_ERROR_MS);
    linger.unref();
    socket.once('close', () => clearTimeout(linger));
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
    for (const socket of this.open) socket.destroy();
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
