import type * as OpcuaLib from 'node-opcua';
import type { DeviceError, DeviceState, DeviceStatus, Driver, DriverContext } from '../driver.js';
import { DeviceStateLog } from '../kit/device-state-log.js';
import { WriteRefused, type WriteRequest, type WriteResult } from '../writable-point.js';
import { certificateManagerFor } from './certificate-cache.js';
import { userIdentityFor } from './credentials.js';
import { deviceErrorFrom } from './errors.js';
import { loadOpcuaLibrary, type Lib } from './library.js';
import { itemsDetail, itemStates, monitorItem, readingFromDataValue, type ItemState } from './monitored-items.js';
import { namespaceUriOf, readNamespaces, withNamespaceIndex } from './node-id.js';
import { PublishBatch } from './publish-batch.js';
import { defaultPkiDir } from './pki.js';
import type { OpcuaDeviceConfig, OpcuaWriteConfig } from './schema.js';
import { runSessionLoop } from './session-loop.js';
import { StallWatchdog, stallAfterMs } from './stall-watchdog.js';
import { readingValueFromVariant } from './value.js';
import { expectedReadBack, opcuaValueFor } from './writes.js';

type Client = OpcuaLib.OPCUAClient;
type Session = OpcuaLib.ClientSession;

type SessionState = 'disconnected' | 'connecting' | 'connected' | 'reconnecting';

/**
 * OPC-UA driver: one client, session and subscription per device; each monitored item's data
 * changes become telemetry readings. This file builds the session and subscription and keeps
 * status, with the kit's state log like every driver; the rest has its own module: loading
 * node-opcua (library.ts), the shared certificate store (certificate-cache.ts), the user identity
 * (credentials.ts), one monitored item (monitored-items.ts), reconnecting with the kit's backoff
 * (session-loop.ts), noticing a subscription that went silent (stall-watchdog.ts) and handing a
 * publish response's readings over together, good values packed (publish-batch.ts).
 */
export function createOpcuaDriver(config: OpcuaDeviceConfig, ctx: DriverContext): Driver {
  return new OpcuaDriver(config, ctx);
}

class OpcuaDriver implements Driver {
  private readonly stateLog: DeviceStateLog;
  private lastGoodTs: number | null = null;
  private readonly counters = {
    connects: 0,
    connectFailures: 0,
    connectionLost: 0,
    sessionsRestored: 0,
    rebuilds: 0,
    notifications: 0,
    itemErrors: 0,
  };
  private readonly items: ItemState[];
  /** One publish response's readings, handed over together (good values packed). */
  private readonly batch: PublishBatch;
  private readonly pkiDir: string;
  private running = false;
  private abort = new AbortController();
  private loop: Promise<void> | null = null;
  private client: Client | null = null;
  private subscription: OpcuaLib.ClientSubscription | null = null;
  /** The session of the current client, once created; commands are written through it. */
  private session: OpcuaLib.ClientSession | null = null;
  private readonly writes: Map<string, OpcuaWriteConfig>;
  private sessionState: SessionState = 'disconnected';
  private readonly watchdog: StallWatchdog;
  private wakeRebuild: (() => void) | null = null;
  private lib: Lib | null = null;
  /** Namespace URIs the items and writes name (nsu=), and the server's namespace array of this session. */
  private readonly namespaceUris: string[];
  private namespaces: readonly string[] = [];

  constructor(
    private readonly cfg: OpcuaDeviceConfig,
    private readonly ctx: DriverContext,
  ) {
    this.stateLog = new DeviceStateLog(ctx, 'opcua server', { endpointUrl: cfg.endpointUrl }, { initial: 'stopped' });
    this.items = itemStates(cfg.items);
    this.batch = new PublishBatch(cfg.items, ctx);
    this.writes = new Map(cfg.writes.map((w) => [w.name, w]));
    const nodeIds = [...cfg.items.map((c) => c.nodeId), ...cfg.writes.map((w) => w.nodeId)];
    this.namespaceUris = [...new Set(nodeIds.map(namespaceUriOf).filter((u): u is string => u !== undefined))];
    this.pkiDir = cfg.pkiDir ?? defaultPkiDir(process.env, ctx.stateDir);
    this.watchdog = new StallWatchdog(
      stallAfterMs(cfg.publishingIntervalMs, cfg.keepAliveCount),
      () => this.running && this.sessionState === 'connected',
      (quiet) => this.requestRebuild(`no notification or keep-alive for ${quiet} ms`),
    );
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.abort = new AbortController();
    this.stateLog.set('starting');
    // Connecting can take as long as the server is away; start() must not wait for that.
    this.loop = this.run().catch((err: unknown) => {
      this.ctx.log.error({ err }, 'opcua connection loop ended unexpectedly');
      this.fail(deviceErrorFrom(err, 'internal'), 'down');
    });
    this.watchdog.start();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.batch.flush();
    this.running = false;
    this.abort.abort();
    this.watchdog.stop();
    this.wakeRebuild?.();
    await this.closeClient();
    await this.loop;
    this.loop = null;
    this.stateLog.set('stopped');
  }

  status(): DeviceStatus {
    return this.stateLog.status(this.lastGoodTs, this.counters, {
      endpointUrl: this.cfg.endpointUrl,
      session: this.sessionState,
      subscriptionId: this.subscription?.subscriptionId ?? null,
      pkiDir: this.pkiDir,
      items: itemsDetail(this.items),
    });
  }

  /**
   * A declared writable variable (writes.ts): the value sent as its DataType on the current
   * session, the server's StatusCode checked, then read back. A Bad status (BadNotWritable,
   * BadTypeMismatch, BadUserAccessDenied ...) is the server refusing: the outcome is `failed`
   * with the status name as its code, as a Modbus exception is.
   */
  async write(point: string, request: WriteRequest): Promise<WriteResult> {
    const w = this.writes.get(point);
    if (!w) throw new WriteRefused('not-declared', `opcua device ${this.cfg.endpointUrl} has no writable point "${point}"`);
    if (request.action !== 'write') throw new WriteRefused('action-not-allowed', `point "${point}" takes write, not ${request.action}`);
    const value = opcuaValueFor(w, request.value);
    if (typeof value === 'string') throw new WriteRefused(value.slice(0, value.indexOf(':')), value.slice(value.indexOf(':') + 2));
    const lib = this.lib;
    const session = this.session;
    if (!lib || !session || this.sessionState !== 'connected') {
      throw Object.assign(new Error(`write ${w.nodeId} (point ${point}): no session to ${this.cfg.endpointUrl} (${this.sessionState})`), { code: 'ENOTCONN' });
    }
    const resolved = withNamespaceIndex(w.nodeId, this.namespaces);
    if (!resolved.ok) throw Object.assign(new Error(`write ${w.nodeId} (point ${point}): ${resolved.message}`), { code: 'OPCUA_NAMESPACE_UNKNOWN' });
    const nodeId = lib.resolveNodeId(resolved.nodeId);
    const what = `write ${w.nodeId} (point ${point})`;
    const status = await this.answeredInTime(what, session.write({
      nodeId,
      attributeId: lib.AttributeIds.Value,
      value: { value: { dataType: lib.DataType[w.dataType], value } },
    }));
    if (status.isNotGood()) throw Object.assign(new Error(`${what}: the server answered ${status.name} (${status.description})`), { code: status.name });
    if (!w.readBack) return {};
    const dv = await this.answeredInTime(`${what}, reading it back`, session.read({ nodeId, attributeId: lib.AttributeIds.Value }));
    if (dv.statusCode.isNotGood()) {
      throw Object.assign(new Error(`write ${w.nodeId} (point ${point}): written, but reading it back gave ${dv.statusCode.name}`), { code: 'READBACK_BAD' });
    }
    const readBack = readingValueFromVariant(dv.value?.value, String(lib.DataType[dv.value?.dataType] ?? ''));
    if (typeof readBack !== 'number' && typeof readBack !== 'boolean') {
      throw Object.assign(new Error(`write ${w.nodeId} (point ${point}): written, but it reads back as ${JSON.stringify(readBack)}, not a ${w.dataType}`), { code: 'READBACK_BAD' });
    }
    return { readBack, expected: expectedReadBack(w, value) };
  }

  /**
   * node-opcua holds a request back while it repairs a connection and sends it once repaired: a
   * write could then reach the server long after its command expired (a barrier opening minutes
   * late). So a write has a deadline; past it the connection is dropped and built afresh, which
   * discards whatever node-opcua still held, and the outcome is failed: the server may or may not
   * have applied it, and nothing is sent later.
   */
  private async answeredInTime<T>(what: string, request: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.requestRebuild(`${what}: no answer within ${this.cfg.writeTimeoutMs} ms`);
        reject(Object.assign(new Error(`${what}: no answer within writeTimeoutMs ${this.cfg.writeTimeoutMs} ms; the connection was dropped so it cannot be sent later, but the server may have applied it`), { code: 'OPCUA_WRITE_TIMEOUT' }));
      }, this.cfg.writeTimeoutMs);
    });
    try {
      return await Promise.race([request, deadline]);
    } finally {
      clearTimeout(timer);
      request.catch(() => {}); // settled by the rebuild after a timeout: nobody waits for it then
    }
  }

  private run(): Promise<void> {
    return runSessionLoop(
      {
        running: () => this.running,
        connect: () => this.connectAndSubscribe(),
        untilRebuildNeeded: () => this.untilRebuildNeeded(),
        onFailure: (err, failures) => this.connectFailed(err, failures),
        close: () => this.closeClient(),
      },
      { startingDelay: this.cfg.reconnect.initialDelayMs, maxDelay: this.cfg.reconnect.maxDelayMs },
      this.abort.signal,
    );
  }

  private connectFailed(err: unknown, failures: number): void {
    this.counters.connectFailures += 1;
    const e = deviceErrorFrom(err, `connect to ${this.cfg.endpointUrl}`);
    if (e.code === 'OPCUA_CERTIFICATE_REJECTED') {
      e.message += `; if this server is the right one, move its certificate from ${this.pkiDir}/rejected to ${this.pkiDir}/trusted/certs`;
    }
    // A PLC that is off for a weekend should not fill the journal: warn on a new kind of
    // failure and then at failures 1, 2, 4, 8 ...; the status always has the latest.
    const news = e.code !== this.stateLog.lastError?.code || (failures & (failures - 1)) === 0;
    this.fail(e, 'down');
    this.ctx.log[news ? 'warn' : 'debug']({ code: e.code, err: e.message, failures }, 'opcua connect failed');
  }

  private untilRebuildNeeded(): Promise<void> {
    return new Promise((resolve) => {
      this.wakeRebuild = resolve;
      if (!this.running) resolve();
    });
  }

  private requestRebuild(reason: string): void {
    if (!this.running || !this.wakeRebuild) return;
    this.counters.rebuilds += 1;
    this.ctx.log.warn({ reason }, 'opcua: dropping the connection and building session + subscription afresh');
    this.fail({ code: 'OPCUA_STALLED', message: `${reason}; reconnecting from scratch`, ts: Date.now() }, 'down');
    const wake = this.wakeRebuild;
    this.wakeRebuild = null;
    wake();
  }

  private async connectAndSubscribe(): Promise<void> {
    const lib = await loadOpcuaLibrary(this.ctx.log);
    this.lib = lib;
    const cm = await certificateManagerFor(lib, this.pkiDir, this.cfg.trustUnknownServerCertificate);
    const identity = await userIdentityFor(lib, this.cfg.auth);
    if (!this.running) return;

    this.sessionState = 'connecting';
    const client = lib.OPCUAClient.create({
      applicationName: 'edge-gateway',
      clientName: `edge-gateway:${this.ctx.deviceId}`,
      endpointMustExist: false,
      securityMode: lib.MessageSecurityMode[this.cfg.securityMode],
      securityPolicy: lib.SecurityPolicy[this.cfg.securityPolicy],
      clientCertificateManager: cm,
      ...(this.cfg.clientCertificateFile
        ? { certificateFile: this.cfg.clientCertificateFile, privateKeyFile: this.cfg.clientPrivateKeyFile?.path }
        : {}),
      keepSessionAlive: true,
      requestedSessionTimeout: 60_000,
      // maxRetry > 0 makes node-opcua repair a broken connection on its own (with infinite
      // retries, re-activating or re-creating the session and transferring or re-creating the
      // subscription). The *first* connect gives up quickly so our loop can report the error.
      connectionStrategy: {
        maxRetry: 1,
        initialDelay: this.cfg.reconnect.initialDelayMs,
        maxDelay: this.cfg.reconnect.maxDelayMs,
      },
    });
    this.client = client;
    this.watchClient(client);

    await client.connect(this.cfg.endpointUrl);
    if (!this.running || this.client !== client) return;
    const session = await client.createSession(identity);
    if (!this.running || this.client !== client) return;
    this.watchSession(session, client);
    this.session = session;
    // nsu= items are resolved against this session's namespace array (the server numbers them).
    if (this.namespaceUris.length > 0) {
      this.namespaces = await readNamespaces(lib, session);
      if (!this.running || this.client !== client) return;
    }

    const subscription = await session.createSubscription2({
      requestedPublishingInterval: this.cfg.publishingIntervalMs,
      requestedMaxKeepAliveCount: this.cfg.keepAliveCount,
      // Lifetime must be >= 3x keep-alive (Part 4, 5.13.2); extra slack rides out short outages.
      requestedLifetimeCount: this.cfg.keepAliveCount * 6,
      maxNotificationsPerPublish: 1000,
      publishingEnabled: true,
      priority: 10,
    });
    if (!this.running || this.client !== client) return;
    this.subscription = subscription;
    subscription.on('keepalive', () => this.touch());
    subscription.on('status_changed', (status) => {
      this.ctx.log.warn({ status: status.toString() }, 'opcua subscription status changed');
    });

    // Every item is judged afresh on a new session: an error from an earlier one is not kept.
    for (const item of this.items) {
      item.status = 'pending';
      item.error = null;
    }
    // One at a time: node-opcua warns (and some PLCs choke) on many concurrent CreateMonitoredItems.
    for (const item of this.items) {
      if (!this.running || this.client !== client) return;
      await monitorItem(lib, subscription, item, this.namespaces, {
        changed: (dv) => this.onChanged(item, dv),
        failed: (err) => this.itemFailed(item, err),
        initialized: () => {
          item.status = 'ok';
          item.error = null;
          this.refreshState();
        },
      });
    }
    this.counters.connects += 1;
    this.sessionState = 'connected';
    this.touch();
    this.refreshState();
    this.ctx.log.info(
      { subscriptionId: subscription.subscriptionId, items: this.items.length },
      'opcua subscription active',
    );
  }

  private itemFailed(item: ItemState, err: unknown): void {
    const e = deviceErrorFrom(err, `monitor ${item.cfg.nodeId} (point ${item.cfg.point})`);
    item.status = 'error';
    item.error = e.message;
    this.counters.itemErrors += 1;
    this.stateLog.lastError = { ...e, code: 'OPCUA_ITEM_REJECTED' };
    this.ctx.log.warn({ point: item.cfg.point, nodeId: item.cfg.nodeId, err: e.message }, 'opcua item rejected');
    this.refreshState();
  }

  private onChanged(item: ItemState, dv: OpcuaLib.DataValue): void {
    if (!this.running) return;
    const receivedAt = Date.now();
    this.touch();
    const reading = readingFromDataValue(this.lib, item.cfg, dv, receivedAt);
    item.notifications += 1;
    item.lastTs = reading.ts;
    this.counters.notifications += 1;
    if (reading.quality === 'good') this.lastGoodTs = receivedAt;
    this.batch.add(reading);
  }

  private watchClient(client: Client): void {
    const mine = () => this.running && this.client === client;
    client.on('connection_lost', () => {
      if (!mine()) return;
      this.counters.connectionLost += 1;
      this.sessionState = 'reconnecting';
      this.fail({ code: 'ECONNRESET', message: `connection to ${this.cfg.endpointUrl} lost; node-opcua is reconnecting`, ts: Date.now() }, 'down');
      this.ctx.log.warn('opcua connection lost; reconnecting');
    });
    client.on('connection_reestablished', () => {
      if (!mine()) return;
      this.ctx.log.info('opcua connection re-established');
    });
    client.on('reconnection_attempt_has_failed', (err: Error) => {
      if (!mine()) return;
      this.stateLog.lastError = deviceErrorFrom(err, `reconnect to ${this.cfg.endpointUrl}`);
    });
  }

  private watchSession(session: Session, client: Client): void {
    const mine = () => this.running && this.client === client;
    session.on('session_restored', () => {
      if (!mine()) return;
      this.counters.sessionsRestored += 1;
      this.sessionState = 'connected';
      this.touch();
      this.refreshState();
      this.ctx.log.info('opcua session restored (subscription transferred or re-created)');
      void this.checkNamespaces(session, client);
    });
    session.on('session_closed', () => {
      if (mine() && this.sessionState === 'connected') this.requestRebuild('session closed by server');
    });
  }

  /**
   * node-opcua re-creates the items of a restored session with the namespace indexes resolved
   * before; a restarted server may have renumbered its namespaces, so compare and, if any URI
   * moved, build session and subscription afresh (which resolves them again).
   */
  private async checkNamespaces(session: Session, client: Client): Promise<void> {
    if (this.namespaceUris.length === 0 || !this.lib) return;
    try {
      const now = await readNamespaces(this.lib, session);
      if (!this.running || this.client !== client) return;
      const moved = this.namespaceUris.filter((u) => now.indexOf(u) !== this.namespaces.indexOf(u));
      if (moved.length > 0) this.requestRebuild(`the server renumbered its namespaces (${moved.join(', ')})`);
    } catch (err) {
      this.ctx.log.warn({ err: (err as Error).message }, 'opcua: could not re-read the namespace array after a session was restored');
    }
  }

  private touch(): void {
    this.watchdog.touch();
  }

  private refreshState(): void {
    if (!this.running || this.sessionState !== 'connected') return;
    const failedItems = this.items.filter((i) => i.status === 'error');
    const failed = failedItems.length;
    // The error shown is the one that holds now: a connection error from before the session was
    // restored is history once it is, and a rejected item is what keeps the device degraded.
    if (failed === 0) this.stateLog.lastError = null;
    else if (this.stateLog.lastError?.code !== 'OPCUA_ITEM_REJECTED') {
      this.stateLog.lastError = { code: 'OPCUA_ITEM_REJECTED', message: `${failed} of ${this.items.length} item(s) rejected; ${failedItems[0]!.error ?? failedItems[0]!.cfg.point}`, ts: Date.now() };
    }
    this.stateLog.set(failed === 0 ? 'ok' : failed === this.items.length ? 'down' : 'degraded', this.stateLog.lastError);
  }

  private fail(error: DeviceError, state: DeviceState): void {
    this.stateLog.lastError = error;
    if (this.running) this.stateLog.set(state, error);
  }

  private async closeClient(): Promise<void> {
    const client = this.client;
    this.client = null;
    this.subscription = null;
    this.session = null;
    this.sessionState = 'disconnected';
    if (!client) return;
    try {
      // Closes the session too, which deletes our subscription on the server.
      await client.disconnect();
    } catch (err) {
      this.ctx.log.debug({ err: (err as Error).message }, 'opcua disconnect failed (ignored)');
    }
  }
}
