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
 * The reference ingest end to end: two real daemons (one on payload v1, one on v2) -> mosquitto
 * -> two ingest workers on one shared subscription -> PostgreSQL. Every committed seq of each
 * gateway is stored exactly once, through a stop of both workers (persistent sessions queue what
 * is published meanwhile) and a restart of one of them, and the two workers split the work.
 */
const PREFIX = 'city';
const log = pino({ level: 'silent' });

let broker: BrokerFixture;
let postgres: PostgresFixture;
let sim: ModbusTcpSimulator;
let db: pg.Client;
let databaseUrl: string;
const configs: ConfigDir[] = [];

function gatewayConfig(id: string, payloadVersion: 1 | 2): ConfigDir {
  const devices: Record<string, Record<string, unknown>> = {};
  for (let u = 1; u <= 3; u++) {
    devices[`dev-${u}`] = {
      type: 'modbus-tcp', host: sim.host, port: sim.port, unitId: u, intervalMs: 50,
      registers: Array.from({ length: 8 }, (_, i) => ({ name: `r${i}`, address: i, type: 'uint16', ...(i === 0 ? { unit: 'Cel' } : {}) })),
    };
  }
  const c = writeConfigDir({
    gatewayId: id, topicPrefix: PREFIX, brokerUrls: [broker.url], devices,
    gateway: { forward: { payloadVersion, batchMaxReadings: 400, inflightWindow: 4 } },
  });
  configs.push(c);
  return c;
}

const worker = (name: string): Promise<Ingest> =>
  startIngest({ brokerUrl: broker.url, databaseUrl, prefix: PREFIX, group: 'ingest', clientId: name, connections: 2, statsIntervalMs: 500, log });

async function until(what: string, predicate: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function storedBy(gateway: string): Promise<{ rows: number; min: number | null; max: number | null; outboxes: number }> {
  const r = await db.query<{ rows: number; min: string | null; max: string | null; outboxes: number }>(
    `SELECT count(*)::int AS rows, min(seq) AS min, max(seq) AS max, count(DISTINCT o.id)::int AS outboxes
       FROM readings r JOIN outboxes o ON o.id = r.outbox_id WHERE o.gateway = $1`, [gateway]);
  const row = r.rows[0]!;
  return { rows: row.rows, min: row.min === null ? null : Number(row.min), max: row.max === null ? null : Number(row.max), outboxes: row.outboxes };
}

beforeAll(async () => {
  [broker, postgres, sim] = await Promise.all([
    startBroker({ persistence: true }),
    startPostgres(),
    startModbusTcpSimulator({ units: [1, 2, 3], stepMs: 20 }),
  ]);
  databaseUrl = postgres.createDatabase('ingest_e2e');
  db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
}, 90_000);

afterAll(async () => {
  await db?.end();
  await sim?.stop();
  await broker?.dispose();
  await postgres?.dispose();
  for (const c of configs) rmSync(c.dir, { recursive: true, force: true });
});

describe('reference ingest: gateways -> mosquitto -> ingest workers -> PostgreSQL', () => {
  it('stores every reading of a v1 and a v2 gateway exactly once, through a stop and a restart of the workers, split between two workers', async () => {
    const v1 = gatewayConfig('gw-v1', 1);
    const v2 = gatewayConfig('gw-v2', 2);
    let a = await worker('ingest-a');
    let b = await worker('ingest-b');
    await until('both workers connected', async () => a.connected === 2 && b.connected === 2, 15_000);
    const gateways = [GatewayProcess.start(v1.dir), GatewayProcess.start(v2.dir)];
    await Promise.all(gateways.map((g) => g.ready()));
    await until('readings from both gateways', async () => (await storedBy('gw-v1')).rows > 1000 && (await storedBy('gw-v2')).rows > 1000, 30_000);

    // Both workers away for 3 s: the broker queues the shared subscription's messages in their sessions.
    const before = { a: a.counters.readings, b: b.counters.readings };
    await Promise.all([a.stop(), b.stop()]);
    const atStop = (await storedBy('gw-v1')).rows + (await storedBy('gw-v2')).rows;
    await new Promise((r) => setTimeout(r, 3000));
    expect((await storedBy('gw-v1')).rows + (await storedBy('gw-v2')).rows).toBe(atStop);
    a = await worker('ingest-a');
    b = await worker('ingest-b');
    await until('the workers catch up', async () => a.counters.readings + b.counters.readings > 2000, 30_000);
    // One worker restarted alone, mid-stream.
    await a.stop();
    await new Promise((r) => setTimeout(r, 1000));
    a = await worker('ingest-a');
    await new Promise((r) => setTimeout(r, 2000));

    // Clean stop of the gateways: everything they committed is acknowledged by the broker.
    for (const g of gateways) expect((await g.stop()).code).toBe(0);
    for (const c of [v1, v2]) {
      const last = committedUpTo(c.outboxPath);
      expect(pendingReadings(c.outboxPath)).toBe(0);
      await until(`every seq of ${c.gatewayId} stored`, async () => (await storedBy(c.gatewayId)).rows === last, 30_000);
      // Exactly once: the key makes a second copy impossible, so count = every seq from 1 to the last.
      expect(await storedBy(c.gatewayId)).toEqual({ rows: last, min: 1, max: last, outboxes: 1 });
    }
    expect((await db.query('SELECT * FROM gaps')).rows).toEqual([]);
    expect((await db.query('SELECT * FROM rejected_messages')).rows).toEqual([]);
    expect(a.counters.batchesV2 + b.counters.batchesV2).toBeGreaterThan(0);
    // v2 records were stored expanded, with their units, like v1 readings.
    const units = await db.query<{ gateway: string; unit: string }>(`SELECT DISTINCT gateway, unit FROM series WHERE point = 'r0' ORDER BY gateway`);
    expect(units.rows).toEqual([{ gateway: 'gw-v1', unit: 'Cel' }, { gateway: 'gw-v2', unit: 'Cel' }]);

    // The shared subscription split the batches between the workers (round robin in mosquitto).
    const statsWorkers = await db.query<{ worker: string }>('SELECT DISTINCT worker FROM ingest_stats ORDER BY worker');
    expect(statsWorkers.rows.map((r) => r.worker)).toEqual(['ingest-a', 'ingest-b']);
    const perWorker = { a: before.a, b: before.b };
    expect(perWorker.a).toBeGreaterThan(0);
    expect(perWorker.b).toBeGreaterThan(0);
    const share = perWorker.a / (perWorker.a + perWorker.b);
    expect(share).toBeGreaterThan(0.25);
    expect(share).toBeLessThan(0.75);

    // Status and health were stored; the gateways' last status says they stopped.
    const status = await db.query<{ gateway: string; state: string }>('SELECT gateway, state FROM gateway_status ORDER BY gateway');
    expect(status.rows).toEqual([{ gateway: 'gw-v1', state: 'offline' }, { gateway: 'gw-v2', state: 'offline' }]);
    const health = await db.query<{ n: number }>('SELECT count(DISTINCT gateway)::int AS n FROM health');
    expect(health.rows[0]!.n).toBe(2);
    await Promise.all([a.stop(), b.stop()]);
  }, 180_000);
});
