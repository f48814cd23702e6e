import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { Aedes, type AuthenticateError } from 'aedes';
import { BrokerError } from './errors.js';
import type { LogTail } from './log-tail.js';
import { listenOnLoopback } from './port.js';

export interface AedesProcessOptions {
  port: number;
  /** Keep sessions and queued QoS 1 messages across stop()/start(), like mosquitto's database. */
  persistence: boolean;
  auth?: { username: string; password: string };
  tls?: { port: number; caFile: string; certFile: string; keyFile: string; requireClientCert: boolean };
}


/**
 * The embedded fallback. It cannot crash separately from the test process, so stop() and kill()
 * only differ in how client sockets go away (FIN vs RST).
 */
export class AedesProcess {
  private broker: Aedes | null = null;
  private servers: net.Server[] = [];
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly opts: AedesProcessOptions,
    private readonly log: LogTail,
  ) {}

  get running(): boolean {
    return this.servers.length > 0;
  }

  async start(): Promise<void> {
    if (this.running) return;
    const broker = this.broker ?? (await this.createBroker());
    this.broker = broker;
    const handle = (socket: net.Socket): void => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      broker.handle(socket);
    };
    try {
      this.servers.push(await listenOnLoopback(net.createServer(handle), this.opts.port));
      if (this.opts.tls) {
        const t = this.opts.tls;
        const server = tls.createServer(
          {
            ca: readFileSync(t.caFile),
            cert: readFileSync(t.certFile),
            key: readFileSync(t.keyFile),
            requestCert: t.requireClientCert,
            rejectUnauthorized: t.requireClientCert,
          },
          handle,
        );
        this.servers.push(await listenOnLoopback(server, t.port));
      }
    } catch (err) {
      await this.shutdown(false);
      throw new BrokerError(
        'BROKER_START_FAILED',
        `aedes could not listen on 127.0.0.1:${this.opts.port}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    this.log.note(`aedes listening on 127.0.0.1:${this.opts.port}`);
  }

  async stop(): Promise<void> {
    await this.shutdown(false);
  }

  async kill(): Promise<void> {
    await this.shutdown(true);
  }

  /** Also forget persisted sessions and stop aedes' timers. */
  async dispose(): Promise<void> {
    await this.shutdown(false);
    await this.closeBroker();
  }

  private async closeBroker(): Promise<void> {
    const broker = this.broker;
    this.broker = null;
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
  }

  private async shutdown(abrupt: boolean): Promise<void> {
    const servers = this.servers;
    this.servers = [];
    const closed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    for (const socket of this.sockets) {
      if (abrupt) socket.resetAndDestroy();
      else socket.destroy();
    }
    await Promise.all(closed);
    if (!this.opts.persistence) await this.closeBroker();
  }

  private async createBroker(): Promise<Aedes> {
    const auth = this.opts.auth;
    const broker = await Aedes.createBroker(
      auth
        ? {
            authenticate: (_client, username, password, done) => {
              if (username === auth.username && password?.toString() === auth.password) {
                done(null, true);
              } else {
                // 4 = bad user name or password (MQTT 3.1.1 CONNACK return code)
                const err = Object.assign(new Error('bad user name or password'), {
                  returnCode: 4,
                }) as AuthenticateError;
                done(err, false);
              }
            },
          }
        : {},
    );
    broker.on('clientError', (client, err) => this.log.note(`client ${client.id} error: ${err.message}`));
    broker.on('client', (client) => this.log.note(`client ${client.id} connected`));
    broker.on('clientDisconnect', (client) => this.log.note(`client ${client.id} disconnected`));
    return broker;
  }
}

