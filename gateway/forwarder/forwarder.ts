import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { retryDelayMs } from '../../drivers/kit/backoff.js';
import { InterruptibleSleep } from '../../drivers/kit/interruptible-sleep.js';
import type { ClaimedBatch } from '../model/claimed-batch.js';
import type { BatchSource } from '../outbox/store.js';
import { redactUrl, splitBrokerUrl } from './broker-url.js';
import { InboundGuard, type InboundLimits, type InboundRoute, type InboundStats } from './inbound/inbound-guard.js';
import type { PayloadVersion } from '../payload/encode.js';
import { batchPayload } from '../payload/envelope.js';
import { compressBatch, type Compression } from '../payload/compression.js';
import { processIdentity, type WireIdentity } from './identity.js';
import { statusPayload } from './status.js';
import { topicForStream, type Topics } from './topics.js';

/**
 * Store-and-forward: claims the oldest pending rows of the outbox, publishes them as QoS 1
 * batches and deletes them only when the broker's PUBACK arrives. Knows nothing of devices.
 *
 * Each connection is a fresh mqtt.js client (reconnectPeriod 0): mqtt.js's own in-memory resend
 * store is never relied on, and whatever was in flight when a connection died is released back
 * to the outbox and published again, in order, on the next connection (at-least-once; duplicates
 * are limited to one in-flight window). Broker URLs are tried in turn with the kit's jittered
 * backoff (`retryDelayMs`), on a sleep that stop() cuts short. Everything the broker sends passes
 * the InboundGuard first.
 */
export interface ForwarderOptions {
  outbox: BatchSource;
  gatewayId: string;
  topics: Topics;
  urls: string[];
  clientId: string;
  username?: string;
  password?: string;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean; servername?: string };
  keepaliveMs: number;
  connectTimeoutMs: number;
  reconnect: { minDelay: number; maxDelay: number };
  batchMaxReadings: number;
  batchMaxBytes: number;
  /** Hold a not-yet-full telemetry batch up to this long for more readings (0 = send at once). */
  batchMaxWaitMs: number;
  inflightWindow: number;
  /** Envelope version of batches without poll records (those are always v2). Default 1. */
  payloadVersion?: PayloadVersion;
  /** Per-batch compression on the wire (payload/compression.ts); default none. */
  compression?: Compression;
  /** Messages the gateway takes in (the command channel); none by default. */
  inbound?: InboundRoute;
  inboundLimits?: Partial<InboundLimits>;
  /** bootId, start time, version and site carried by status and health; a fresh one if absent. */
  identity?: WireIdentity;
  log: Logger;
}

export interface ForwarderStats {
  connected: boolean;
  broker: string | null;
  connectedSinceMs: number | null;
  lastError: { message: string; ts: number } | null;
  connects: number;
  connectFailures: number;
  /** While disconnected: when the next connection attempt starts (null while connected or trying). */
  nextAttemptAtMs: number | null;
  inflightBatches: number;
  batchesAcked: number;
  readingsAcked: number;
  bytesAcked: number;
  ackFailures: number;
  inbound: InboundStats;
}

export class Forwarder {
  private readonly bootId = randomBytes(4).toString('hex');
  private batchCounter = 0;
  private client: MqttClient | null = null;
  private connected = false;
  private broker: string | null = null;
  private connectedSinceMs: number | null = null;
  /** Bumped on every connection change: PUBACKs from an older connection are ignored. */
  private generation = 0;
  private inflight = 0;
  private urlIndex = 0;
  private stopping = false;
  private loop: Promise<void> | null = null;
  private closedWaiter: (() => void) | null = null;
  private holdTimer: NodeJS.Timeout | null = null;
  private idleWaiters: (() => void)[] = [];
  private readonly counters = { connects: 0, connectFailures: 0, batchesAcked: 0, readingsAcked: 0, bytesAcked: 0, ackFailures: 0 };
  private lastError: ForwarderStats['lastError'] = null;
  private nextAttemptAtMs: number | null = null;
  private readonly retryWait = new InterruptibleSleep();
  private readonly inbound: InboundGuard;
  readonly identity: WireIdentity;

  constructor(private readonly opts: ForwarderOptions) {
    this.inbound = new InboundGuard(opts.log, opts.inbound ?? null, opts.inboundLimits);
    this.identity = opts.identity ?? processIdentity();
  }

  private status(reason: 'connected' | 'stop' | 'lwt'): Buffer {
    return statusPayload(this.opts.gatewayId, this.identity, this.opts.outbox.id, reason);
  }

  start(): void {
    if (this.loop) return;
    this.loop = this.connectLoop();
  }

  /** New rows were committed: publish them if the window allows. */
  wake(): void {
    this.pump();
  }

  private async connectLoop(): Promise<void> {
    // Failed attempts since the last connection: the backoff grows with it and restarts from
    // minDelay after every connection, so a broker back from an outage is tried within maxDelay.
    let failures = 0;
    while (!this.stopping) {
      if (this.counters.connects > 0 || failures > 0) {
        const delay = retryDelayMs(failures, { startingDelay: this.opts.reconnect.minDelay, maxDelay: this.opts.reconnect.maxDelay });
        this.nextAttemptAtMs = Date.now() + delay;
        await this.retryWait.sleep(delay);
        this.nextAttemptAtMs = null;
        if (this.stopping) return;
      }
      try {
        await this.connectOnce();
      } catch (err) {
        if (this.stopping) return;
        failures++;
        this.noteError(err as Error);
        this.counters.connectFailures++;
        // A broker down for hours would otherwise fill the journal: log the first few, then every 20th.
        if (failures <= 3 || failures % 20 === 0) this.opts.log.warn({ err: (err as Error).message, attempt: failures }, 'broker connection failed; retrying with backoff');
        continue;
      }
      failures = 0;
      await new Promise<void>((resolve) => (this.closedWaiter = resolve));
    }
  }

  private connectOnce(): Promise<void> {
    if (this.stopping) return Promise.reject(new Error('forwarder stopped'));
    const url = this.opts.urls[this.urlIndex++ % this.opts.urls.length]!;
    const o = this.opts;
    // Credentials leave the URL here, so mqtt.js never parses (or warns about) a password.
    const endpoint = splitBrokerUrl(url);
    const options: IClientOptions = {
      clientId: o.clientId,
      clean: true,
      reconnectPeriod: 0,
      keepalive: Math.max(1, Math.round(o.keepaliveMs / 1000)),
      connectTimeout: o.connectTimeoutMs,
      // Readiness of the gateway is published retained; the broker flips it to offline if we vanish.
      will: { topic: o.topics.status, payload: this.status('lwt'), qos: 1, retain: true },
      // mqtt-packet's default pre-builds 65,536 packet-id Buffers (~7 MB of heap, per a heap
      // snapshot of the daemon); a few small allocations per publish are cheaper on a 1 GB box.
      writeCache: false,
      username: o.username ?? endpoint.username,
      password: o.password ?? endpoint.password,
      ...(o.tls ?? {}),
    };
    return new Promise<void>((resolve, reject) => {
      const client = mqtt.connect(endpoint.url, { ...options, ...this.inbound.clientOptions() });
      this.inbound.attach(client);
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        client.end(true);
        reject(err);
      };
      client.once('error', fail);
      client.once('close', () => fail(new Error(`connection to ${redactUrl(url)} closed before CONNACK`)));
      client.once('connect', () => {
        if (settled) return;
        settled = true;
        client.removeAllListeners('error');
        client.removeAllListeners('close');
        this.onConnected(client, url);
        resolve();
      });
    });
  }

  private onConnected(client: MqttClient, url: string): void {
    this.client = client;
    this.connected = true;
    this.broker = redactUrl(url);
    this.connectedSinceMs = Date.now();
    this.generation++;
    this.counters.connects++;
    // Status shows the last error while the link is down; a working link has none.
    this.lastError = null;
    const gen = this.generation;
    const stats = this.opts.outbox.stats();
    this.opts.log.info({ broker: this.broker, backlog: stats.pendingReadings }, 'connected to broker');
    client.on('error', (err) => this.noteError(err));
    client.on('close', () => this.onClosed(client, gen));
    client.publish(this.opts.topics.status, this.status('connected'), { qos: 1, retain: true });
    const filters = this.inbound.subscriptions;
    if (filters.length > 0) {
      client.subscribe([...filters], { qos: 1 }, (err, granted) => {
        if (err) return this.noteError(err);
        const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
        if (refused.length > 0) this.opts.log.error({ topics: refused }, 'broker refused the subscription (check its ACL for this gateway\'s user): no commands will arrive');
        else this.opts.log.info({ topics: filters }, 'subscribed');
      });
    }
    this.pump();
  }

  private onClosed(client: MqttClient, gen: number): void {
    if (gen !== this.generation) return;
    this.generation++;
    this.connected = false;
    this.client = null;
    this.connectedSinceMs = null;
    client.removeAllListeners();
    client.on('error', () => {});
    client.end(true);
    // Whatever awaited a PUBACK on that connection is pending again, oldest first.
    const lost = this.inflight;
    this.inflight = 0;
    this.opts.outbox.release();
    this.resolveIdle();
    if (!this.stopping) this.opts.log.warn({ broker: this.broker, inflightReleased: lost }, 'broker connection lost; buffering in outbox');
    const w = this.closedWaiter;
    this.closedWaiter = null;
    w?.();
  }

  private pump(): void {
    const client = this.client;
    if (!client || !this.connected || this.stopping) return;
    const o = this.opts;
    while (this.inflight < o.inflightWindow) {
      // Events never wait: a scan at a parking gate should be upstream at once.
      const batch =
        o.outbox.claim('event', o.batchMaxReadings, o.batchMaxBytes) ??
        o.outbox.claim('telemetry', o.batchMaxReadings, o.batchMaxBytes, o.batchMaxWaitMs);
      if (!batch) {
        if (o.batchMaxWaitMs > 0 && !this.holdTimer) {
          // A held batch goes out when its wait is over even if nothing new is committed.
          this.holdTimer = setTimeout(() => {
            this.holdTimer = null;
            this.pump();
          }, o.batchMaxWaitMs).unref();
        }
        return;
      }
      this.send(client, batch);
    }
  }

  private send(client: MqttClient, batch: ClaimedBatch): void {
    const o = this.opts;
    const batchId = `${this.bootId}-${++this.batchCounter}`;
    const payload = compressBatch(batchPayload(o.gatewayId, o.outbox.id, batchId, batch, Date.now(), o.payloadVersion), o.compression ?? 'none');
    const gen = this.generation;
    this.inflight++;
    client.publish(topicForStream(o.topics, batch.stream), payload, { qos: 1 }, (err) => {
      // A PUBACK (or failure) from a connection that has since been replaced: the batch was
      // already released and will be (or was) sent again.
      if (gen !== this.generation) return;
      this.inflight--;
      if (err) {
        // mqtt.js fails in-flight publishes from inside its own cleanup loop when a connection
        // dies (keepalive timeout, socket error); ending the client from here would re-enter that
        // loop and crash it. The 'close' that follows releases the batch. For any other failure,
        // drop the connection on the next tick so the batch is re-sent in order on a fresh one.
        this.noteError(err);
        setImmediate(() => {
          if (gen === this.generation) client.end(true);
        });
        return;
      }
      try {
        o.outbox.ack(batch);
      } catch (ackErr) {
        // The broker has the batch but the outbox could not delete it (disk full or I/O error).
        // Never throw out of mqtt.js's callback: drop the connection, so after the reconnect
        // backoff the rows are sent again (a duplicate, never a loss).
        this.counters.ackFailures++;
        this.noteError(ackErr as Error);
        o.log.error({ err: ackErr, firstSeq: batch.firstSeq, lastSeq: batch.lastSeq }, 'outbox could not delete an acknowledged batch; it will be sent again');
        setImmediate(() => {
          if (gen === this.generation) client.end(true);
        });
        return;
      }
      this.counters.batchesAcked++;
      this.counters.readingsAcked += batch.count;
      this.counters.bytesAcked += payload.length;
      if (this.inflight === 0) this.resolveIdle();
      this.pump();
    });
  }

  /**
   * Publish a batch of kept (already acknowledged) rows again, marked `replay: true`, at QoS 1;
   * resolves on its PUBACK. Nothing is acked in the outbox: the rows were delivered before. Not
   * queued while offline: the request came over this connection, and its sender asks again.
   */
  publishReplay(batch: ClaimedBatch): Promise<void> {
    const client = this.client;
    if (!client || !this.connected || this.stopping) return Promise.reject(new Error('not connected to the broker'));
    const o = this.opts;
    // Compressed like any batch: a replayed range crosses the same (metered) link.
    const payload = compressBatch(batchPayload(o.gatewayId, o.outbox.id, `${this.bootId}-r${++this.batchCounter}`, batch, Date.now(), o.payloadVersion, true), o.compression ?? 'none');
    return new Promise<void>((resolve, reject) => {
      client.publish(topicForStream(o.topics, batch.stream), payload, { qos: 1 }, (err) => (err ? reject(err) : resolve()));
    });
  }

  /**
   * Publish the health report, retained, at QoS 1 (a consumer judges staleness by `intervalMs`,
   * so one must not vanish silently on a healthy link), with what says which process sent it.
   * Not queued while offline: the next one supersedes it.
   */
  publishHealth(report: object, intervalMs: number): void {
    if (!this.connected || !this.client) return;
    const { bootId, startedAt, version, site } = this.identity;
    const payload = JSON.stringify({ ...report, intervalMs, startedAt, bootId, version, ...(site ? { site } : {}) });
    this.client.publish(this.opts.topics.health, payload, { qos: 1, retain: true });
  }

  private noteError(err: Error): void {
    this.lastError = { message: err.message, ts: Date.now() };
  }

  private resolveIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /**
   * Stop claiming, give in-flight batches a moment to be acknowledged, say `offline` (a clean
   * disconnect does not fire the Last Will) and close. Anything unacknowledged stays pending.
   */
  async stop(graceMs = 2000): Promise<void> {
    this.stopping = true;
    this.retryWait.interrupt();
    if (this.holdTimer) clearTimeout(this.holdTimer);
    const client = this.client;
    if (client && this.connected) {
      if (this.inflight > 0) {
        await Promise.race([new Promise<void>((r) => this.idleWaiters.push(r)), sleep(graceMs)]);
      }
      await new Promise<void>((resolve) => {
        client.publish(this.opts.topics.status, this.status('stop'), { qos: 1, retain: true }, () => resolve());
        setTimeout(resolve, graceMs).unref();
      });
      this.generation++;
      await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
    } else {
      client?.end(true);
    }
    this.connected = false;
    this.client = null;
    this.closedWaiter?.();
  }

  stats(): ForwarderStats {
    return {
      connected: this.connected,
      broker: this.broker,
      connectedSinceMs: this.connectedSinceMs,
      lastError: this.lastError,
      connects: this.counters.connects,
      connectFailures: this.counters.connectFailures,
      nextAttemptAtMs: this.nextAttemptAtMs,
      inflightBatches: this.inflight,
      batchesAcked: this.counters.batchesAcked,
      readingsAcked: this.counters.readingsAcked,
      bytesAcked: this.counters.bytesAcked,
      ackFailures: this.counters.ackFailures,
      inbound: this.inbound.stats(),
    };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

