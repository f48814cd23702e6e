import net from 'node:net';
import path from 'node:path';
import {
  DataType,
  OPCUACertificateManager,
  OPCUAServer,
  StatusCodes,
  Variant,
  type StatusCode,
  type UAVariable,
} from 'node-opcua';

/**
 * A node-opcua server standing in for a traffic-signal controller or parking PLC. It serves a few
 * changing variables on a loopback port and can be stopped and started again on the SAME port, so
 * a client's reconnect + subscription re-creation can be tested against a real server restart.
 *
 * Node ids (namespace 1, the server's own namespace):
 * - `ns=1;s=Counter`  UInt32, +1 every tick
 * - `ns=1;s=Analog`   Double AnalogItem (EURange 0..100): 50 ± 0.2 noise, jumps by 10 every `jumpEvery` ticks
 * - `ns=1;s=Flag`     Boolean, toggles every tick
 * - `ns=1;s=Faulty`   Double, status set by `setFaultyStatus()`, source timestamp shifted by `sourceTimeOffsetMs`
 *
 * Two more namespaces are registered after the server's own, as a foreign server (open62541, a
 * PLC) has several: `EXTRA_NAMESPACES[0]` at index 2 and `EXTRA_NAMESPACES[1]` at index 3, so a
 * config author who guesses "the plant namespace is ns=2" is wrong, and `nsu=` must be resolved.
 * - `nsu=urn:edge-gateway:test:plant;s=Temp`  Float 3.14159 (index 3)
 *
 * Writable by clients (the command channel's targets); every other variable is read-only, so a
 * write to `ns=1;s=Counter` is answered BadNotWritable:
 * - `ns=1;s=Setpoint`  Int16, 20 at start
 * - `nsu=urn:edge-gateway:test:plant;s=Limit`  Float, 1.5 at start
 * - `ns=1;s=Stuck`  Int16 whose write never gets an answer (a PLC that hangs on a write)
 */
export const EXTRA_NAMESPACES = ['urn:edge-gateway:test:vendor', 'urn:edge-gateway:test:plant'] as const;
export interface OpcuaRigOptions {
  /** Folder for the server's PKI (own certificate is generated once and reused across restarts). */
  pkiDir: string;
  port?: number;
  tickMs?: number;
  jumpEvery?: number;
  /** Source timestamps of `Faulty` are now + this, so a test can tell source time from receive time. */
  sourceTimeOffsetMs?: number;
  /** Accepted user; anonymous sessions are refused when set and `allowAnonymous` is false. */
  user?: { username: string; password: string };
  allowAnonymous?: boolean;
}

export type FaultyStatus = 'good' | 'uncertain' | 'bad';

const statusFor: Record<FaultyStatus, StatusCode> = {
  good: StatusCodes.Good,
  uncertain: StatusCodes.UncertainLastUsableValue,
  bad: StatusCodes.BadSensorFailure,
};

export async function freeLoopbackPort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export class OpcuaTestServer {
  private server: OPCUAServer | null = null;
  private timer: NodeJS.Timeout | null = null;
  private ticks = 0;
  private faulty: FaultyStatus = 'good';
  private vars: { counter?: UAVariable; analog?: UAVariable; flag?: UAVariable; faulty?: UAVariable; setpoint?: UAVariable; limit?: UAVariable } = {};
  port = 0;
  /** How many times the server has been started; lets a test see a restart really happened. */
  generation = 0;

  constructor(private readonly opts: OpcuaRigOptions) {}

  get endpointUrl(): string {
    return `opc.tcp://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.server) return;
    if (!this.port) this.port = this.opts.port ?? (await freeLoopbackPort());
    const certificateManager = new OPCUACertificateManager({
      rootFolder: path.join(this.opts.pkiDir, 'server'),
      automaticallyAcceptUnknownCertificate: true,
    });
    const user = this.opts.user;
    const server = new OPCUAServer({
      port: this.port,
      host: '127.0.0.1',
      hostname: '127.0.0.1',
      serverCertificateManager: certificateManager,
      // Without this node-opcua puts a user-certificate store under ~/.config.
      userCertificateManager: new OPCUACertificateManager({
        rootFolder: path.join(this.opts.pkiDir, 'server-users'),
        automaticallyAcceptUnknownCertificate: true,
      }),
      allowAnonymous: this.opts.allowAnonymous ?? !user,
      disableDiscovery: true,
      ...(user
        ? { userManager: { isValidUser: (u: string, p: string) => u === user.username && p === user.password } }
        : {}),
    });
    await server.initialize();
    this.buildAddressSpace(server);
    await server.start();
    this.server = server;
    this.generation += 1;
    const tickMs = this.opts.tickMs ?? 100;
    this.timer = setInterval(() => this.tick(), tickMs);
  }

  /** Stop hard (no grace period), as a PLC power cycle would. The port is kept for `start()`. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const server = this.server;
    this.server = null;
    this.vars = {};
    if (server) await server.shutdown(0);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /**
   * Delete every client subscription while keeping sessions and the TCP connection up, as a PLC
   * does after a program download or when it runs out of resources. Returns how many it deleted.
   */
  dropSubscriptions(): number {
    let dropped = 0;
    for (const session of this.server?.engine.getSessions() ?? []) {
      for (const sub of [...session.publishEngine.subscriptions]) {
        session.deleteSubscription(sub.id);
        dropped += 1;
      }
    }
    return dropped;
  }

  setFaultyStatus(status: FaultyStatus): void {
    this.faulty = status;
    this.writeFaulty();
  }

  /** The current value of a writable variable, as a client's write left it. */
  writableValue(which: 'setpoint' | 'limit'): unknown {
    return this.vars[which]?.readValue().value.value;
  }

  private buildAddressSpace(server: OPCUAServer): void {
    const addressSpace = server.engine.addressSpace;
    if (!addressSpace) throw new Error('address space missing after initialize()');
    const ns = addressSpace.getOwnNamespace();
    const folder = ns.addFolder(addressSpace.rootFolder.objects, { browseName: 'Cabinet' });
    this.vars.counter = ns.addVariable({
      componentOf: folder,
      nodeId: 's=Counter',
      browseName: 'Counter',
      dataType: 'UInt32',
      accessLevel: 'CurrentRead',
      userAccessLevel: 'CurrentRead',
      value: new Variant({ dataType: DataType.UInt32, value: 0 }),
    });
    this.vars.analog = ns.addAnalogDataItem({
      componentOf: folder,
      nodeId: 's=Analog',
      browseName: 'Analog',
      dataType: 'Double',
      engineeringUnitsRange: { low: 0, high: 100 },
      value: { dataType: DataType.Double, value: 50 },
    } as Parameters<typeof ns.addAnalogDataItem>[0]) as unknown as UAVariable;
    this.vars.flag = ns.addVariable({
      componentOf: folder,
      nodeId: 's=Flag',
      browseName: 'Flag',
      dataType: 'Boolean',
      value: new Variant({ dataType: DataType.Boolean, value: false }),
    });
    this.vars.faulty = ns.addVariable({
      componentOf: folder,
      nodeId: 's=Faulty',
      browseName: 'Faulty',
      dataType: 'Double',
      value: new Variant({ dataType: DataType.Double, value: 0 }),
    });
    this.writeFaulty();
    this.vars.setpoint = ns.addVariable({
      componentOf: folder,
      nodeId: 's=Setpoint',
      browseName: 'Setpoint',
      dataType: 'Int16',
      accessLevel: 'CurrentRead | CurrentWrite',
      userAccessLevel: 'CurrentRead | CurrentWrite',
      value: new Variant({ dataType: DataType.Int16, value: 20 }),
    });
    ns.addVariable({
      componentOf: folder,
      nodeId: 's=Stuck',
      browseName: 'Stuck',
      dataType: 'Int16',
      accessLevel: 'CurrentRead | CurrentWrite',
      userAccessLevel: 'CurrentRead | CurrentWrite',
      value: {
        get: () => new Variant({ dataType: DataType.Int16, value: 0 }),
        set: () => new Promise<StatusCode>(() => {}),
      },
    });
    const [, plant] = EXTRA_NAMESPACES.map((uri) => addressSpace.registerNamespace(uri));
    plant!.addVariable({
      componentOf: folder,
      nodeId: 's=Temp',
      browseName: 'Temp',
      dataType: 'Float',
      value: new Variant({ dataType: DataType.Float, value: 3.14159 }),
    });
    this.vars.limit = plant!.addVariable({
      componentOf: folder,
      nodeId: 's=Limit',
      browseName: 'Limit',
      dataType: 'Float',
      accessLevel: 'CurrentRead | CurrentWrite',
      userAccessLevel: 'CurrentRead | CurrentWrite',
      value: new Variant({ dataType: DataType.Float, value: 1.5 }),
    });
  }

  private tick(): void {
    this.ticks += 1;
    const { counter, analog, flag } = this.vars;
    counter?.setValueFromSource(new Variant({ dataType: DataType.UInt32, value: this.ticks }));
    const jumpEvery = this.opts.jumpEvery ?? 10;
    const level = 50 + (Math.floor(this.ticks / jumpEvery) % 2) * 10;
    // Noise well inside an absolute deadband of 1: only the jumps should get through such a filter.
    const noise = (Math.random() - 0.5) * 0.4;
    analog?.setValueFromSource(new Variant({ dataType: DataType.Double, value: level + noise }));
    flag?.setValueFromSource(new Variant({ dataType: DataType.Boolean, value: this.ticks % 2 === 1 }));
    this.writeFaulty();
  }

  private writeFaulty(): void {
    const sourceTs = new Date(Date.now() + (this.opts.sourceTimeOffsetMs ?? 0));
    this.vars.faulty?.setValueFromSource(
      new Variant({ dataType: DataType.Double, value: this.ticks * 0.5 }),
      statusFor[this.faulty],
      sourceTs,
    );
  }
}
