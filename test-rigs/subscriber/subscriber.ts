import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import {
  droppedRanges,
  parseBatch,
  parseHealth,
  parseStatus,
  type GatewayStatus,
  type HealthPayload,
  type LayoutLog,
  type ReadingPayload,
} from './payload.js';
import { SeqTracker, type TrackerSummary } from './seq-tracker.js';

export interface SubscriberOptions {
  url: string;
  prefix: string;
  gatewayId: string;
  /**
   * Must be stable across restarts: with `clean: false` the broker keeps this client's session
   * and queues QoS 1 messages for it while it is away.
   */
  clientId: string;
  /** Default false (persistent session). */
  clean?: boolean;
  /** Keep every reading in `readings` (tests); off by default so a long run stays small. */
  keepReadings?: boolean;
  /** Continue counting from a previous subscriber's trackers, e.g. across a subscriber restart. */
  trackers?: Map<string, SeqTracker>;
  /** Extra mqtt.js options: username, password, ca, cert, key, keepalive... */
  mqtt?: IClientOptions;
}

export interface ReceivedReading extends ReadingPayload {
  batch: string;
  topic: 'telemetry' | 'events';
}

export interface MalformedMessage {
  topic: string;
  reason: string;
  at: number;
}

export interface SubscriberCounters {
  batches: number;
  /** Readings received, duplicates included. */
  readings: number;
  malformed: number;
}

export interface Subscriber {
  /** Seq bookkeeping for the outbox seen most recently (the gateway's current one). */
  readonly tracker: SeqTracker;
  /** One tracker per gateway outbox id: a replaced outbox starts its own seq space. */
  readonly trackers: Map<string, SeqTracker>;
  readonly readings: ReceivedReading[];
  readonly lastHealth: HealthPayload | null;
  /** The retained `online`/`offline` (LWT) status, or null before one arrives. */
  readonly status: GatewayStatus | null;
  readonly counters: SubscriberCounters;
  /** The last few malformed messages, newest last. */
  readonly malformed: MalformedMessage[];
  readonly connected: boolean;
  summary(): SubscriberSummary;
  /** Resolves once `predicate` holds (checked after every message); rejects after `timeoutMs`. */
  waitFor(predicate: (s: Subscriber) => boolean, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

export interface SubscriberSummary extends TrackerSummary, SubscriberCounters {
  status: GatewayStatus | null;
  duplicateBatches: Array<{ batch: string; count: number }>;
}

const KEEP_MALFORMED = 20;
const NO_OUTBOX = '';

export class SubscriberError extends Error {
  constructor(
    readonly code: 'SUBSCRIBE_REFUSED' | 'WAIT_TIMEOUT' | 'CONNECT_FAILED',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SubscriberError';
  }
}

/** Gateway events that declare a seq range will never arrive (see docs/payload.md). */
const DECLARING_EVENTS = new Set(['outbox.dropped', 'outbox.skipped']);

function declaredDrop(r: ReadingPayload): [number, number] | null {
  if (r.device !== '_gateway' || !DECLARING_EVENTS.has(r.point)) return null;
  const from = r.attrs?.fromSeq;
  const to = r.attrs?.toSeq;
  return Number.isSafeInteger(from) && Number.isSafeInteger(to) && (from as number) <= (to as number)
    ? [from as number, to as number]
    : null;
}

export async function startSubscriber(opts: SubscriberOptions): Promise<Subscriber> {
  const base = `${opts.prefix}/${opts.gatewayId}`;
  const topics = {
    [`${base}/telemetry`]: 'telemetry',
    [`${base}/events`]: 'events',
    [`${base}/status`]: 'status',
    [`${base}/health`]: 'health',
  } as const;
  const trackers = opts.trackers ?? new Map<string, SeqTracker>();
  // Until the first batch names its outbox, `tracker` is a fresh one that the first outbox adopts.
  let current = [...trackers.values()].at(-1) ?? new SeqTracker();
  const readings: ReceivedReading[] = [];
  const malformed: MalformedMessage[] = [];
  const counters: SubscriberCounters = { batches: 0, readings: 0, malformed: 0 };
  let lastHealth: HealthPayload | null = null;
  let status: GatewayStatus | null = null;
  const waiters = new Set<() => void>();
  // v2 layout ids are content hashes, the same across outboxes and restarts: one log per gateway.
  const layouts: LayoutLog = new Map();

  const trackerFor = (outbox: string): SeqTracker => {
    let t = trackers.get(outbox);
    if (!t) {
      t = [...trackers.values()].includes(current) ? new SeqTracker() : current;
      trackers.set(outbox, t);
    }
    current = t;
    return t;
  };

  const reject = (topic: string, reason: string): void => {
    counters.malformed++;
    malformed.push({ topic, reason, at: Date.now() });
    if (malformed.length > KEEP_MALFORMED) malformed.shift();
  };

  const onMessage = (topic: string, payload: Buffer): void => {
    const kind = topics[topic as keyof typeof topics];
    if (kind === 'telemetry' || kind === 'events') {
      const parsed = parseBatch(payload, opts.gatewayId, layouts);
      if (!parsed.ok) return reject(topic, parsed.reason);
      const b = parsed.value;
      counters.batches++;
      // v2 poll records arrive expanded: everything below sees v1 readings.
      counters.readings += b.readings.length;
      const tracker = trackerFor(b.outbox ?? NO_OUTBOX);
      tracker.acceptReadings(b.readings, b.batch);
      // Health is QoS 0 and lists only recent drops; the outbox.dropped and outbox.skipped events
      // (QoS 1) are the durable record of a retention drop or of seqs skipped after a power cut.
      for (const r of b.readings) {
        const range = declaredDrop(r);
        if (range) tracker.declareDropped([range]);
      }
      if (opts.keepReadings) for (const r of b.readings) readings.push({ ...r, batch: b.batch, topic: kind });
    } else if (kind === 'status') {
      // An empty retained message clears the topic: status unknown again.
      if (payload.length === 0) status = null;
      else {
        const parsed = parseStatus(payload);
        if (!parsed.ok) return reject(topic, parsed.reason);
        status = parsed.value.state;
      }
    } else if (kind === 'health') {
      if (payload.length === 0) return;
      const parsed = parseHealth(payload, opts.gatewayId);
      if (!parsed.ok) return reject(topic, parsed.reason);
      lastHealth = parsed.value;
      trackerFor(parsed.value.outbox.id ?? NO_OUTBOX).declareDropped(droppedRanges(parsed.value));
    } else {
      reject(topic, 'unexpected topic');
    }
  };

  // Handlers go on before the connection exists: a resumed session delivers its queued
  // messages right behind CONNACK, and a late handler would miss them.
  const client: MqttClient = mqtt.connect(opts.url, {
    reconnectPeriod: 1_000,
    connectTimeout: 10_000,
    ...opts.mqtt,
    clientId: opts.clientId,
    clean: opts.clean ?? false,
  });
  client.on('message', (topic, payload) => {
    onMessage(topic, payload);
    for (const wake of [...waiters]) wake();
  });
  // mqtt.js emits errors on the client; without a listener they would crash the process.
  client.on('error', () => undefined);

  try {
    await new Promise<void>((resolve, rejectConnect) => {
      const onError = (err: Error): void => {
        client.off('connect', onConnect);
        rejectConnect(err);
      };
      const onConnect = (): void => {
        client.off('error', onError);
        resolve();
      };
      client.once('connect', onConnect);
      client.once('error', onError);
    });
    const granted = await client.subscribeAsync(
      Object.fromEntries(Object.keys(topics).map((topic) => [topic, { qos: 1 as const }])),
    );
    const refused = granted.filter((g) => g.qos === 128);
    if (refused.length > 0) {
      throw new SubscriberError('SUBSCRIBE_REFUSED', `broker refused subscriptions: ${refused.map((g) => g.topic).join(', ')}`);
    }
  } catch (err) {
    await client.endAsync(true);
    if (err instanceof SubscriberError) throw err;
    throw new SubscriberError('CONNECT_FAILED', `subscriber could not connect to ${opts.url}: ${(err as Error).message}`, {
      cause: err,
    });
  }

  const sub: Subscriber = {
    get tracker() {
      return current;
    },
    trackers,
    readings,
    get lastHealth() {
      return lastHealth;
    },
    get status() {
      return status;
    },
    counters,
    malformed,
    get connected() {
      return client.connected;
    },
    summary() {
      return { ...current.summary(), ...counters, status, duplicateBatches: current.duplicateBatches() };
    },
    waitFor(predicate, timeoutMs) {
      return new Promise((resolve, rejectWait) => {
        if (predicate(sub)) return resolve();
        const wake = (): void => {
          if (!predicate(sub)) return;
          clearTimeout(timer);
          waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(wake);
          rejectWait(
            new SubscriberError('WAIT_TIMEOUT', `condition not met within ${timeoutMs} ms; ${JSON.stringify(sub.summary())}`),
          );
        }, timeoutMs);
        waiters.add(wake);
      });
    },
    async stop() {
      await client.endAsync();
    },
  };
  return sub;
}
