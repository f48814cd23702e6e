import { rmSync } from 'node:fs';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { committedUpTo, pendingReadings } from '../gateway/outbox/inspect.js';
import { startBroker, type BrokerFixture } from '../test-rigs/broker/broker.js';
import { writeConfigDir, type ConfigDir } from '../test-rigs/harness/config-dir.js';
import { GatewayProcess } from '../test-rigs/harness/gateway-process.js';
import { startModbusTcpSimulator, type ModbusTcpSimulator } from '../test-rigs/modbus-sim/server.js';
import { startPostgres, type PostgresFixture } from '../test-rigs/postgres/postgres.js';
import { startIngest, type Ingest } from './ingest.js';

/**
 * Issue #24's Done-when: replay works across a broker crash. A real daemon publishes through a
 * real mosquitto WITHOUT persistence while the reference ingest is offline; the broker
 * acknowledges (the gateway keeps those rows, outbox.keepAcked), queues them for the ingest's
 * session, and is then killed: the queue is gone. After the restart the ingest sees the gap, asks
 * for it on the gateway's command topic, and every missing seq arrives, marked as a replay, into
 * PostgreSQL, exactly once.
 */
const PREFIX = 'city';
const GW = 'gw-replay';
const log = pino({ level: 'silent' });

let broker: BrokerFixture;
let postgres: PostgresFixture;
let sim: ModbusTcpSimulator;
let db: pg.Client;
let databaseUrl: string;
let config: ConfigDir | undefined;

async function until(what: string, predicate: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function stored(): Promise<{ rows: number; max: number }> {
  const r = await db.query<{ rows: number; max: string | null }>('SELECT count(*)::int AS rows, max(seq) AS max FROM readings');
  return { rows: r.rows[0]!.rows, max: Number(r.rows[0]!.max ?? 0) };
}

const worker = (): Promise<Ingest> =>
  startIngest({
    brokerUrl: broker.url,
    databaseUrl,
    prefix: PREFIX,
    clientId: 'ingest-replay',
    connections: 1,
    statsIntervalMs: 500,
    replay: { intervalMs: 300, minGapAgeMs: 1000, retryAfterMs: 5000 },
    log,
  });

beforeAll(async () => {
  [broker, postgres, sim] = await Promise.all([startBroker({ kind: 'mosquitto', persistence: false }), startPostgres(), startModbusTcpSimulator({ units: [1, 2, 3], stepMs: 20 })]);
  databaseUrl = postgres.createDatabase('replay_e2e');
  db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
}, 90_000);

afterAll(async () => {
  await db?.end();
  await sim?.stop();
  await broker?.dispose();
  await postgres?.dispose();
  if (config) rmSync(config.dir, { recursive: true, force: true });
});

describe('replay across a broker crash: gateway -> mosquitto (killed) -> ingest -> PostgreSQL', () => {
  it('asks for every seq the broker lost after acknowledging it, and stores each exactly once', async () => {
    config = writeConfigDir({
      gatewayId: GW,
      topicPrefix: PREFIX,
      brokerUrls: [broker.url],
      devices: Object.fromEntries(
        [1, 2, 3].map((u) => [`dev-${u}`, { type: 'modbus-tcp', host: sim.host, port: sim.port, unitId: u, intervalMs: 50, registers: Array.from({ length: 8 }, (_, i) => ({ name: `r${i}`, address: i, type: 'uint16' })) }]),
      ),
      gateway: { commands: { enabled: true }, outbox: { keepAcked: '10m' }, forward: { batchMaxReadings: 400 } },
    });
    let ingest = await worker();
    await until('ingest connected', async () => ingest.connected === 1, 15_000);
    const gateway = GatewayProcess.start(config.dir);
    await gateway.ready();
    await until('readings stored', async () => (await stored()).rows > 500, 30_000);

    // The ingest goes away; its session stays and the broker queues for it, in memory only.
    await ingest.stop();
    const atStop = await stored();
    await new Promise((r) => setTimeout(r, 2000));
    // Acknowledged by the broker meanwhile: the gateway deleted them from its pending rows.
    const acknowledgedUpTo = committedUpTo(config.outboxPath) - pendingReadings(config.outboxPath);
    expect(acknowledgedUpTo).toBeGreaterThan(atStop.max + 300);
    await broker.kill();
    await broker.start();

    // Back: a fresh session (the broker lost the old one and its queue), new readings after the gap.
    ingest = await worker();
    await until('readings after the crash', async () => (await stored()).max > acknowledgedUpTo + 200, 30_000);

    // Asked for and replayed: the gap closes, nothing is recorded as lost. The replayed readings and
    // the request's outcome (an event, on its own stream) are stored from separate
    // messages, so the outcome may land a moment after the gap closed: wait for both.
    await until('the gap closed', async () => (await db.query('SELECT 1 FROM gaps')).rowCount === 0, 30_000);
    await until('the replay request reported', async () => ((await db.query('SELECT 1 FROM replay_requests WHERE outcome IS NOT NULL')).rowCount ?? 0) > 0, 30_000);
    const requests = await db.query<{ outcome: string; replayed: string; unavailable: string | null; from_seq: string; to_seq: string }>(
      'SELECT outcome, replayed, unavailable, from_seq, to_seq FROM replay_requests WHERE outcome IS NOT NULL ORDER BY from_seq',
    );
    expect(requests.rows.length).toBeGreaterThan(0);
    expect(requests.rows.every((r) => r.outcome === 'executed' && r.unavailable === '')).toBe(true);
    const lostRange = requests.rows.find((r) => Number(r.from_seq) <= atStop.max + 300 && Number(r.to_seq) >= acknowledgedUpTo - 1);
    expect(lostRange, JSON.stringify(requests.rows)).toBeDefined();
    expect(Number(lostRange!.replayed)).toBeGreaterThanOrEqual(Number(lostRange!.to_seq) - Number(lostRange!.from_seq) + 1);
    expect((await db.query("SELECT 1 FROM declared_ranges WHERE reason = 'replay:unavailable'")).rowCount).toBe(0);

    // Clean stop: every seq the gateway committed is in PostgreSQL exactly once.
    expect((await gateway.stop()).code).toBe(0);
    const last = committedUpTo(config.outboxPath);
    await until('every seq stored', async () => (await stored()).rows === last, 30_000);
    const all = await db.query<{ rows: number; min: string; max: string }>('SELECT count(*)::int AS rows, min(seq) AS min, max(seq) AS max FROM readings');
    expect({ rows: all.rows[0]!.rows, min: Number(all.rows[0]!.min), max: Number(all.rows[0]!.max) }).toEqual({ rows: last, min: 1, max: last });
    expect((await db.query('SELECT * FROM rejected_messages')).rows).toEqual([]);
    await ingest.stop();
  }, 180_000);
});
