import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import pg from 'pg';
import type { Logger } from 'pino';
import { migrate } from './migrate.js';
import { parseBatch, parseHealth, parseStatus, type LayoutLog } from './payload.js';
import { GapReplay, replayAnswersInBatch, storeReplayAnswers, type GapReplayOptions } from './replay-requests.js';
import { IngestStore } from './store.js';

/**
 * The reference ingest (docs/ingest.md): MQTT -> PostgreSQL, every reading exactly once.
 *
 * - Persistent sessions (MQTT 5, clean start off, session expiry > 0) with stable client ids, so
 *   what is published while a worker is down is queued for it by the broker.
 * - A message is acknowledged (PUBACK) only after the statement storing it has committed: the
 *   ack is sent from mqtt.js's `handleMessage` callback, which we call after the insert. A crash
 *   between commit and ack only causes a redelivery, which the (outbox, seq) key absorbs.
 * - mqtt.js hands one message at a time to `handleMessage` per connection, so a worker opens
 *   `connections` clients to overlap database round trips. Batches go through a shared
 *   subscription (`$share/<group>/...`) when a group is given, so workers split the load;
 *   status and health are subscribed to directly (retained messages are never sent to shared
 *   subscriptions) on the first connection of each worker and stored idempotently.
 * - A database failure is never acknowledged: the connection is dropped, and the broker sends
 *   every unacknowledged message again on the next one.
 * - With `replay`, gaps that stay open are asked for on the gateway's command topic
 *   (replay-requests.ts): what a broker lost after its PUBACK comes back from the gateway.
 */
export interface IngestOptions {
  brokerUrl: string;
  databaseUrl: string;
  /** `mqtt.topicPrefix` of the gateways; `+` levels are allowed. */
  prefix: string;
  /** Shared-subscription group; absent: plain subscriptions (one worker). */
  group?: string;
  /** Base of the stable client ids: `<clientId>-<n>` per connection. */
  clientId: string;
  connections?: number;
  /** How long the broker keeps a session (and queues for it) while the worker is away. */
  sessionExpiryS?: number;
  statsIntervalMs?: number;
  mqtt?: IClientOptions;
  /**
   * Ask gateways to replay gaps (docs/ingest.md). Give it to one worker of a group only (or to
   * each with its own gateways): every worker sees every gap. Absent: gaps are only recorded.
   */
  replay?: Pick<GapReplayOptions, 'minGapAgeMs' | 'retryAfterMs' | 'maxAttempts' | 'maxPerPass' | 'expiryMs'> & { intervalMs?: number };
  log: Logger;
}

export interface IngestCounters {
  batches: number;
  /** Batches by payload version (a v2 gateway may also send v1-shaped items inside v2). */
  batchesV2: number;
  readings: number;
  inserted: number;
  duplicates: number;
  rejected: number;
  healths: number;
  statuses: number;
  dbFailures: number;
  /** Replay requests sent for gaps, and answers stored. */
  replayRequests: number;
  replayAnswers: number;
}

export interface Ingest {
  readonly counters: IngestCounters;
  readonly connected: number;
  stop(): Promise<void>;
}

const DEFAULT_SESSION_EXPIRY_S = 7 * 24 * 3600;

function topicParts(prefix: string, topic: string): { gateway: string; kind: string } | null {
  // `prefix` may contain `+`: match level by level.
  const want = prefix.split('/');
  const got = topic.split('/');
  if (got.length !== want.length + 2) return null;
  for (let i = 0; i < want.length; i++) if (want[i] !== '+' && want[i] !== got[i]) return null;
  return { gateway: got[want.length]!, kind: got[want.length + 1]! };
}

export async function startIngest(opts: IngestOptions): Promise<Ingest> {
  const log = opts.log;
  const connections = opts.connections ?? 4;
  const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: connections + 1, application_name: `edge-ingest ${opts.clientId}` });
  pool.on('error', (err) => log.error({ err: err.message }, 'idle database connection failed'));
  {
    const client = await pool.connect();
    try {
      const applied = await migrate(client);
      if (applied.length > 0) log.info({ applied }, 'database schema migrated');
    } finally {
      client.release();
    }
  }
  const store = new IngestStore(pool);
  const counters: IngestCounters = { batches: 0, batchesV2: 0, readings: 0, inserted: 0, duplicates: 0, rejected: 0, healths: 0, statuses: 0, dbFailures: 0, replayRequests: 0, replayAnswers: 0 };
  /** The topic levels before <gateway>/<kind> each gateway publishes under: where its commands go. */
  const gatewayPrefixes = new Map<string, string>();
  /** Layout ids per gateway: rule 4 of v2 (an id never changes meaning). */
  const layouts = new Map<string, LayoutLog>();
  let lagMsMax: number | null = null;
  const clients: MqttClient[] = [];
  let stopping = false;

  const share = (filter: string) => (opts.group ? `$share/${opts.group}/${filter}` : filter);

  async function reject(topic: string, reason: string): Promise<void> {
    counters.rejected++;
    log.warn({ topic, reason }, 'message rejected (acknowledged, not stored)');
    await store.storeRejected(topic, reason);
  }

  async function handle(packet: IPublishPacket): Promise<void> {
    const topic = packet.topic;
    const payload = packet.payload as Buffer;
    const parts = topicParts(opts.prefix, topic);
    if (!parts) return reject(topic, 'topic outside <prefix>/<gateway>/<kind>');
    const { gateway, kind } = parts;
    if (kind === 'telemetry' || kind === 'events') {
      let log_ = layouts.get(gateway);
      if (!log_) layouts.set(gateway, (log_ = new Map()));
      const parsed = parseBatch(payload, gateway, log_);
      if (!parsed.ok) return reject(topic, parsed.reason);
      if (parsed.value.outbox === undefined) return reject(topic, 'batch without an outbox id: seqs cannot be keyed');
      const r = await store.storeBatch(parsed.value);
      gatewayPrefixes.set(gateway, topic.split('/').slice(0, -2).join('/'));
      const answers = replayAnswersInBatch(parsed.value);
      if (answers.length > 0) {
        // After the readings: a redelivery of this batch stores both again, idempotently.
        await storeReplayAnswers(pool, answers);
        counters.replayAnswers += answers.length;
      }
      counters.batches++;
      if (parsed.value.v === 2) counters.batchesV2++;
      counters.readings += r.readings;
      counters.inserted += r.inserted;
      counters.duplicates += r.readings - r.inserted;
      const lag = Date.now() - parsed.value.sentAt;
      if (lagMsMax === null || lag > lagMsMax) lagMsMax = lag;
    } else if (kind === 'health') {
      if (payload.length === 0) return;
      const parsed = parseHealth(payload, gateway);
      if (!parsed.ok) return reject(topic, parsed.reason);
      const h = parsed.value;
      const declared = [
        ...h.outbox.dropped.ranges.map(([a, b]) => [a, b, 'health:dropped'] as const),
        ...(h.outbox.skipped?.ranges ?? []).map(([a, b]) => [a, b, 'health:skipped'] as const),
      ];
      await store.storeHealth(h, declared);
      counters.healths++;
    } else if (kind === 'status') {
      if (payload.length === 0) return;
      const parsed = parseStatus(payload);
      if (!parsed.ok) return reject(topic, parsed.reason);
      await store.storeStatus(gateway, parsed.value, packet.retain);
      counters.statuses++;
    } else {
      return reject(topic, `unknown kind "${kind}"`);
    }
  }

  function connect(n: number): MqttClient {
    const client = mqtt.connect(opts.brokerUrl, {
      clientId: `${opts.clientId}-${n}`,
      protocolVersion: 5,
      clean: false,
      properties: { sessionExpiryInterval: opts.sessionExpiryS ?? DEFAULT_SESSION_EXPIRY_S },
      reconnectPeriod: 1000,
      ...opts.mqtt,
    });
    /** Set when storing failed on this connection: nothing after it may be acknowledged on it. */
    let poisoned = false;
    client.handleMessage = (packet, done) => {
      if (packet.cmd !== 'publish' || poisoned || stopping) {
        // No PUBACK: the broker keeps the message for this session and sends it again.
        if (packet.cmd === 'publish') return done(new Error('not acknowledged'));
        return done();
      }
      handle(packet).then(
        () => done(),
        (err: Error) => {
          poisoned = true;
          counters.dbFailures++;
          log.error({ err: err.message, topic: packet.topic }, 'storing failed; dropping the connection so the broker sends it again');
          done(err);
          client.stream.destroy();
        },
      );
    };
    client.on('connect', (connack) => {
      poisoned = false;
      log.info({ client: `${opts.clientId}-${n}`, sessionPresent: connack.sessionPresent }, 'connected to broker');
      const filters: Record<string, { qos: 1 }> = {
        [share(`${opts.prefix}/+/telemetry`)]: { qos: 1 },
        [share(`${opts.prefix}/+/events`)]: { qos: 1 },
      };
      if (n === 0) {
        filters[`${opts.prefix}/+/status`] = { qos: 1 };
        filters[`${opts.prefix}/+/health`] = { qos: 1 };
      }
      // A resumed session keeps its subscriptions; subscribing again is harmless and covers a new one.
      client.subscribe(filters, (err, granted) => {
        if (err) log.error({ err: err.message }, 'subscribe failed');
        const refused = granted?.filter((g) => g.qos > 2) ?? [];
        if (refused.length > 0) log.error({ refused: refused.map((g) => g.topic) }, 'broker refused subscriptions');
      });
    });
    client.on('error', (err) => log.warn({ err: err.message }, 'broker connection error'));
    return client;
  }

  for (let n = 0; n < connections; n++) clients.push(connect(n));

  let replayTimer: NodeJS.Timeout | null = null;
  if (opts.replay) {
    const gapReplay = new GapReplay({
      ...opts.replay,
      db: pool,
      clientId: opts.clientId,
      log,
      publish: (gateway, payload) => {
        const prefix = gatewayPrefixes.get(gateway);
        const client = clients.find((c) => c.connected);
        if (prefix === undefined || !client) return false;
        client.publish(`${prefix}/${gateway}/commands`, payload, { qos: 1 });
        counters.replayRequests++;
        return true;
      },
    });
    let running = false;
    replayTimer = setInterval(() => {
      if (running || stopping) return;
      running = true;
      gapReplay.pass().then(
        () => (running = false),
        (err: Error) => {
          running = false;
          log.warn({ err: err.message }, 'asking for gaps failed; trying again next pass');
        },
      );
    }, opts.replay.intervalMs ?? 5_000);
    replayTimer.unref();
  }

  let last = { at: Date.now(), readings: 0 };
  const statsTimer = setInterval(() => {
    const now = Date.now();
    const readings = counters.readings - last.readings;
    const readingsPerS = (readings * 1000) / Math.max(1, now - last.at);
    const s = { batches: counters.batches, readings: counters.readings, duplicates: counters.duplicates, readingsPerS, lagMsMax };
    log.info({ ...s, inserted: counters.inserted, rejected: counters.rejected, dbFailures: counters.dbFailures }, 'ingest stats');
    last = { at: now, readings: counters.readings };
    lagMsMax = null;
    store.storeStats(opts.clientId, s).then(
      () => store.compactRanges(),
      (err: Error) => log.warn({ err: err.message }, 'could not write ingest stats'),
    ).catch((err: Error) => log.warn({ err: err.message }, 'could not compact received ranges'));
  }, opts.statsIntervalMs ?? 10_000);
  statsTimer.unref();

  return {
    counters,
    get connected() {
      return clients.filter((c) => c.connected).length;
    },
    async stop() {
      stopping = true;
      clearInterval(statsTimer);
      if (replayTimer) clearInterval(replayTimer);
      // Not a clean-session end: the broker keeps the sessions and queues for them.
      await Promise.all(clients.map((c) => c.endAsync(false)));
      await pool.end();
    },
  };
}
