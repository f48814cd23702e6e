import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type BrokerFixture } from '../test-rigs/broker/broker.js';
import { startPostgres, type PostgresFixture } from '../test-rigs/postgres/postgres.js';
import { startIngest, type Ingest } from './ingest.js';
import { booleanArrayLiteral, numberArrayLiteral, seqRanges } from './store.js';

/** The ingest against hand-made messages: gaps, declared ranges, tail loss, unknown fields, bad input, no ack before commit. */
const PREFIX = 'site/a';
const log = pino({ level: 'silent' });
const OUTBOX = '3f0c6a52-8d0e-4d7e-9a51-0c1d8c7e4b1a';

let broker: BrokerFixture;
let postgres: PostgresFixture;
let db: pg.Client;
let pub: MqttClient;
let ingest: Ingest;

const reading = (seq: number, extra: Record<string, unknown> = {}) => ({ seq, device: 'd1', point: 'p', unit: 'Cel', value: seq / 2, quality: 'good', ts: 1764061200000 + seq, ...extra });
function batch(gateway: string, readings: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}): string {
  const seqs = readings.map((r) => r.seq as number);
  return JSON.stringify({ v: 1, gateway, outbox: OUTBOX, batch: `b-${seqs[0]}`, firstSeq: seqs[0], lastSeq: seqs[seqs.length - 1], count: seqs.length, sentAt: Date.now(), readings, ...extra });
}
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => reading(a + i));

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const rows = async (sql: string, params: unknown[] = []) => (await db.query(sql, params)).rows;
const seqsOf = async (gateway: string) =>
  (await rows('SELECT seq::int FROM readings r JOIN outboxes o ON o.id = r.outbox_id WHERE o.gateway = $1 ORDER BY seq', [gateway])).map((r) => r.seq as number);

beforeAll(async () => {
  [broker, postgres] = await Promise.all([startBroker({ persistence: true }), startPostgres()]);
  const url = postgres.createDatabase('ingest_unit');
  db = new pg.Client({ connectionString: url });
  await db.connect();
  ingest = await startIngest({ brokerUrl: broker.url, databaseUrl: url, prefix: PREFIX, clientId: 'unit', connections: 1, statsIntervalMs: 300, log });
  await until('ingest connected', async () => ingest.connected, (n) => n === 1);
  pub = await mqtt.connectAsync(broker.url, { clientId: 'unit-pub' });
}, 60_000);

afterAll(async () => {
  await pub?.endAsync();
  await ingest?.stop();
  await db?.end();
  await broker?.dispose();
  await postgres?.dispose();
});

describe('seqRanges', () => {
  it('turns ascending seqs into inclusive runs', () => {
    expect(seqRanges([1, 2, 3, 7, 9, 10])).toEqual({ from: [1, 7, 9], to: [3, 7, 10] });
    expect(seqRanges([])).toEqual({ from: [], to: [] });
  });
});

describe('array literals', () => {
  it('writes numbers, booleans and nulls as PostgreSQL reads them', async () => {
    const r = await db.query('SELECT $1::float8[] AS n, $2::bool[] AS b, $3::bigint[] AS i', [
      numberArrayLiteral([1.5, null, -2e-7, 1e21, 0]), booleanArrayLiteral([true, null, false]), numberArrayLiteral([Number.MAX_SAFE_INTEGER, 1]),
    ]);
    expect(r.rows[0]).toEqual({ n: [1.5, null, -2e-7, 1e21, 0], b: [true, null, false], i: [String(Number.MAX_SAFE_INTEGER), '1'] });
    expect(numberArrayLiteral([])).toBe('{}');
  });
});

describe('ingest into PostgreSQL', () => {
  it('records gaps between received seqs, leaves declared ranges out of them, and shows tail loss against health', async () => {
    const t = `${PREFIX}/gw-gaps/telemetry`;
    await pub.publishAsync(t, batch('gw-gaps', range(1, 3)), { qos: 1 });
    await pub.publishAsync(t, batch('gw-gaps', range(7, 9)), { qos: 1 });
    await pub.publishAsync(t, batch('gw-gaps', range(20, 21)), { qos: 1 });
    // The same batch again (a redelivery): stored once.
    await pub.publishAsync(t, batch('gw-gaps', range(7, 9)), { qos: 1 });
    // An outbox.skipped event declares 12..15 lost at the gateway.
    const skipped = reading(11, { device: '_gateway', point: 'outbox.skipped', kind: 'event', unit: undefined, value: 4, attrs: { fromSeq: 12, toSeq: 15, reason: 'unclean-stop' } });
    await pub.publishAsync(`${PREFIX}/gw-gaps/events`, batch('gw-gaps', [skipped]), { qos: 1 });
    await until('all stored', () => seqsOf('gw-gaps'), (s) => s.length === 9);
    expect(await seqsOf('gw-gaps')).toEqual([1, 2, 3, 7, 8, 9, 11, 20, 21]);
    const gaps = await until('gaps', () => rows('SELECT from_seq::int, to_seq::int FROM gaps WHERE gateway = $1 ORDER BY from_seq', ['gw-gaps']), (g) => g.length === 3);
    expect(gaps).toEqual([{ from_seq: 4, to_seq: 6 }, { from_seq: 10, to_seq: 10 }, { from_seq: 16, to_seq: 19 }]);

    // Health: nothing pending and nextSeq 25, so 22..24 were acknowledged by the broker and never arrived.
    const health = { v: 1, gateway: 'gw-gaps', ts: Date.now(), uptimeS: 1, outbox: { id: OUTBOX, nextSeq: 25, pendingReadings: 0, dropped: { readings: 0, ranges: [] }, skipped: { ranges: [] } } };
    await pub.publishAsync(`${PREFIX}/gw-gaps/health`, JSON.stringify(health), { qos: 1, retain: true });
    const tail = await until('tail gap', () => rows('SELECT from_seq::int, to_seq::int FROM tail_gaps WHERE gateway = $1', ['gw-gaps']), (g) => g.length === 1);
    expect(tail).toEqual([{ from_seq: 22, to_seq: 24 }]);
    // The duplicate batch counted as duplicates, not stored twice.
    expect(ingest.counters.duplicates).toBeGreaterThanOrEqual(3);

    // Compaction merges the received ranges without changing what they cover.
    await db.query('UPDATE received_ranges SET received_at = received_at - interval \'1 hour\'');
    await until('compacted', () => rows('SELECT from_seq::int, to_seq::int FROM received_ranges r JOIN outboxes o ON o.id = r.outbox_id WHERE o.gateway = $1 ORDER BY from_seq', ['gw-gaps']),
      (r) => r.length === 4);
    expect(await rows('SELECT from_seq::int, to_seq::int FROM gaps WHERE gateway = $1 ORDER BY from_seq', ['gw-gaps'])).toEqual(gaps);
  });

  it('records an announced new outbox, and the previous outbox\'s unreceived tail as lost', async () => {
    const t = `${PREFIX}/gw-repl`;
    const old = { ...JSON.parse(batch('gw-repl', range(1, 5))), outbox: 'old-outbox' };
    await pub.publishAsync(`${t}/telemetry`, JSON.stringify(old), { qos: 1 });
    const created = reading(1, { device: '_gateway', point: 'outbox.created', kind: 'event', unit: undefined, value: 'new-outbox',
      attrs: { reason: 'replaced', firstSeq: 1, previousOutbox: 'old-outbox', previousLastSeq: 8, previousLastSeqExact: true } });
    await pub.publishAsync(`${t}/events`, JSON.stringify({ ...JSON.parse(batch('gw-repl', [created])), outbox: 'new-outbox' }), { qos: 1 });
    const tail = await until('succession', () => rows(`SELECT outbox, from_seq::int, to_seq::int, source FROM tail_gaps WHERE gateway = $1`, ['gw-repl']), (r) => r.length === 1);
    expect(tail).toEqual([{ outbox: 'old-outbox', from_seq: 6, to_seq: 8, source: 'outbox.created' }]);
    expect(await rows(`SELECT reason, previous_outbox, previous_last_seq::int, previous_last_seq_exact FROM outbox_successions s JOIN outboxes o ON o.id = s.outbox_id WHERE o.outbox = 'new-outbox'`))
      .toEqual([{ reason: 'replaced', previous_outbox: 'old-outbox', previous_last_seq: 8, previous_last_seq_exact: true }]);
  });

  it('stores a batch with fields it does not know (additive changes keep the version), rejects and acknowledges a malformed one', async () => {
    const t = `${PREFIX}/gw-new/telemetry`;
    await pub.publishAsync(t, batch('gw-new', [reading(1, { precision: 3 })], { site: { id: 'x' } }), { qos: 1 });
    await pub.publishAsync(t, '{"v":1,"gateway":"gw-new"', { qos: 1 });
    await pub.publishAsync(t, batch('gw-new', range(2, 3)), { qos: 1 });
    await until('stored', () => seqsOf('gw-new'), (s) => s.length === 3);
    expect((await rows('SELECT topic, reason FROM rejected_messages WHERE topic = $1', [t])).length).toBe(1);
  });

  it('acknowledges a batch only after it is committed: a failing insert is sent again by the broker until it succeeds', async () => {
    await db.query('ALTER TABLE readings ADD CONSTRAINT refuse_seq CHECK (seq <> 1000005)');
    const failuresBefore = ingest.counters.dbFailures;
    await pub.publishAsync(`${PREFIX}/gw-fail/telemetry`, batch('gw-fail', range(1000004, 1000006)), { qos: 1 });
    await until('a refused insert', async () => ingest.counters.dbFailures, (n) => n >= failuresBefore + 2, 15_000);
    expect(await seqsOf('gw-fail')).toEqual([]);
    await db.query('ALTER TABLE readings DROP CONSTRAINT refuse_seq');
    // Had the first delivery been acknowledged, the broker would never send it again.
    await until('stored after redelivery', () => seqsOf('gw-fail'), (s) => s.length === 3, 15_000);
  });

  it('stores status in both forms (bare online/offline and status v1) with the reason', async () => {
    await pub.publishAsync(`${PREFIX}/gw-s/status`, 'online', { qos: 1, retain: true });
    await until('bare status', () => rows('SELECT state, reason FROM gateway_status WHERE gateway = $1', ['gw-s']), (r) => r.length === 1);
    const v1 = { v: 1, gateway: 'gw-s', state: 'offline', reason: 'lwt', ts: Date.now(), bootId: 'ab12' };
    await pub.publishAsync(`${PREFIX}/gw-s/status`, JSON.stringify(v1), { qos: 1, retain: true });
    const r = await until('v1 status', () => rows('SELECT state, reason FROM gateway_status WHERE gateway = $1', ['gw-s']), (x) => x[0]?.state === 'offline');
    expect(r).toEqual([{ state: 'offline', reason: 'lwt' }]);
  });
});
