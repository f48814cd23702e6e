import net from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';

/**
 * A fake MQTT 3.1.1 broker on a raw TCP server, for what no real broker does: it behaves well
 * (CONNACK, PUBACK for the gateway's QoS 1 publishes, SUBACK, PINGRESP) and, on top of that,
 * runs whatever `attack` is set on every connection: unsolicited PUBLISH floods, acks for ids
 * never used, garbage, oversize or malformed packets, even packets before CONNACK.
 * Counts what the gateway sends, so a test can see forwarding continue.
 */
export type Attack = (conn: AttackConnection) => Promise<void>;

export interface AttackConnection {
  /** Writes and waits for the socket to drain when it asks to; false once the socket is gone. */
  write(bytes: Uint8Array): Promise<boolean>;
  packet(p: Packet): Promise<boolean>;
  readonly closed: boolean;
}

export interface HostileBroker {
  readonly url: string;
  readonly port: number;
  /** Packets received from the gateway, by type ('publish' are its telemetry, events, health). */
  readonly received: Record<string, number>;
  /** The gateway's PUBLISHes by topic. */
  readonly publishedTo: Record<string, number>;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Set what every connection does once connected (or, with `beforeConnack`, instead of CONNACK). */
  setAttack(attack: Attack | null, opts?: { beforeConnack?: boolean }): void;
  /** Close every open connection (the gateway reconnects). */
  dropConnections(): void;
  close(): Promise<void>;
}

export function packetBytes(p: Packet): Buffer {
  return mqttPacket.generate(p);
}

export async function startHostileBroker(): Promise<HostileBroker> {
  const sockets = new Set<net.Socket>();
  const received: Record<string, number> = {};
  const publishedTo: Record<string, number> = {};
  let connections = 0;
  let attack: Attack | null = null;
  let beforeConnack = false;

  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const conn: AttackConnection = {
      get closed() {
        return socket.destroyed || socket.writableEnded;
      },
      write: async (bytes) => {
        if (conn.closed) return false;
        if (!socket.write(bytes)) {
          await new Promise<void>((resolve) => {
            const done = () => {
              socket.off('drain', done);
              socket.off('close', done);
              resolve();
            };
            socket.on('drain', done);
            socket.on('close', done);
          });
        }
        return !conn.closed;
      },
      packet: (p) => conn.write(packetBytes(p)),
    };
    const run = (a: Attack) => void a(conn).catch(() => socket.destroy());
    parser.on('packet', (p: Packet) => {
      received[p.cmd] = (received[p.cmd] ?? 0) + 1;
      switch (p.cmd) {
        case 'connect':
          if (beforeConnack && attack) return run(attack);
          socket.write(packetBytes({ cmd: 'connack', returnCode: 0, sessionPresent: false }));
          if (attack) run(attack);
          return;
        case 'publish':
          publishedTo[p.topic] = (publishedTo[p.topic] ?? 0) + 1;
          if (p.qos === 1) socket.write(packetBytes({ cmd: 'puback', messageId: p.messageId! }));
          return;
        case 'subscribe':
          socket.write(packetBytes({ cmd: 'suback', messageId: p.messageId, granted: p.subscriptions.map(() => 1) }));
          return;
        case 'pingreq':
          socket.write(packetBytes({ cmd: 'pingresp' }));
          return;
        default:
          return;
      }
    });
    parser.on('error', () => socket.destroy());
    socket.on('data', (chunk) => parser.parse(chunk));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    received,
    publishedTo,
    get connections() {
      return connections;
    },
    setAttack(a, opts) {
      attack = a;
      beforeConnack = opts?.beforeConnack === true;
    },
    dropConnections() {
      for (const s of sockets) s.destroy();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Keeps sending what `next(i)` builds until `untilMs` passes or the connection closes. */
export function flood(next: (i: number) => Uint8Array, untilMs: number): Attack {
  return async (conn) => {
    for (let i = 0; Date.now() < untilMs && !conn.closed; i++) {
      if (!(await conn.write(next(i)))) return;
      // Let the event loop breathe every so often, so a flood of tiny packets does not starve the rig.
      if (i % 256 === 255) await new Promise((r) => setImmediate(r));
    }
  };
}
