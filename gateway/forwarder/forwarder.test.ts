import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type BrokerFixture } from '../../test-rigs/broker/broker.js';
import { TEST_TOPICS, testForwarderOptions } from '../../test-rigs/broker/forwarder-options.js';
import { Outbox } from '../outbox/outbox.js';
import { rowEncoder } from '../payload/encode.js';
import type { Reading } from '../model/reading.js';
import { Forwarder, type ForwarderOptions } from './forwarder.js';
import { batchPayloadSchema } from './payload-schema.js';

/** Against a real broker: the forwarder's ack/delete/release cycle and in-order drain. */
let broker: BrokerFixture;
let dir: string;
beforeAll(async () => {
  // Persistence keeps the subscriber's session (and what is queued for it) across the broker restart.
  broker = await startBroker({ persistence: true });
  dir = mkdtempSync(join(tmpdir(), 'forwarder-test-'));
});
afterAll(async () => {
  await broker?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const topics = TEST_TOPICS;

function makeForwarder(outbox: Outbox, urls = [broker.url], extra: Partial<ForwarderOptions> = {}) {
  return new Forwarder(testForwarderOptions(outbox, urls, extra));
}

function readings(n: number): Reading[] {
  return Array.from({ length: n }, (_, i) => ({ device: 'd', point: 'p', value: i, quality: 'good' as const, ts: Date.now() }));
}

async function collector() {
  const seen: number[] = [];
  const batches: { stream: string; firstSeq: number; lastSeq: number; count: number; batch: string; outbox: string }[] = [];
  const client = await mqtt.connectAsync(broker.url, { clientId: `sub-${Math.random()}`, clean: false });
  await client.subscribeAsync([topics.telemetry, topics.events], { qos: 1 });
  client.on('message', (topic, payload) => {
    // Every published batch must match the documented contract (docs/payload.schema.json).
    batchPayloadSchema.parse(JSON.parse(payload.toString()));
    const msg = JSON.parse(payload.toString()) as { readings: { seq: number }[]; firstSeq: number; lastSeq: number; count: number; batch: string; outbox: string };
    batches.push({ stream: topic.endsWith('events') ? 'event' : 'telemetry', ...msg });
    for (const r of msg.readings) seen.push(r.seq);
  });
  return { seen, batches, client };
}

async function until(cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('forwarder against a real broker', () => {
  it('publishes batches in order, deletes rows only after PUBACK, and drains a backlog after an outage', async () => {
    const outbox = new Outbox({ path: join(dir, 'a.db'), durability: 'normal', encoder: rowEncoder(1), rowMaxReadings: 50, retention: { maxBytes: 1e9, maxAgeMs: 1e9 } });
    const sub = await collector();
    const fwd = makeForwarder(outbox);
    fwd.start();
    outbox.append('telemetry', readings(500));
    fwd.wake();
    await until(() => sub.seen.length >= 500);
    await until(() => outbox.stats().pendingReadings === 0);
    expect(sub.seen).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    const b = sub.batches[0]!;
    expect(b.outbox).toBe(outbox.id);
    expect(b.count).toBeLessThanOrEqual(100);

    // Broker down: readings accumulate durably, nothing is acked.
    await broker.stop();
    await until(() => !fwd.stats().connected);
    outbox.append('event', [{ device: 'g', point: 'scan', value: 'X', quality: 'good', ts: Date.now(), kind: 'event' }]);
    outbox.append('telemetry', readings(1000));
    fwd.wake();
    await new Promise((r) => setTimeout(r, 300));
    expect(outbox.stats().pendingReadings).toBe(1001);

    await broker.start();
    await until(() => outbox.stats().pendingReadings === 0, 20_000);
    await until(() => sub.seen.length >= 1501);
    const unique = [...new Set(sub.seen)].sort((x, y) => x - y);
    expect(unique).toEqual(Array.from({ length: 1501 }, (_, i) => i + 1));
    // The event was committed before the telemetry backlog and went upstream first.
    const afterOutage = sub.batches.filter((x) => x.firstSeq > 500);
    expect(afterOutage[0]!.stream).toBe('event');
    // Telemetry drained in strict order.
    const tele = afterOutage.filter((x) => x.stream === 'telemetry').map((x) => x.firstSeq);
    expect(tele).toEqual([...tele].sort((x, y) => x - y));
    await fwd.stop();
    await sub.client.endAsync();
    outbox.close();
  });

  it('fails over to the next broker URL when the first refuses connections', async () => {
    const outbox = new Outbox({ path: join(dir, 'b.db'), durability: 'normal', encoder: rowEncoder(1), rowMaxReadings: 50, retention: { maxBytes: 1e9, maxAgeMs: 1e9 } });
    const sub = await collector();
    const fwd = makeForwarder(outbox, ['mqtt://127.0.0.1:1', broker.url]);
    fwd.start();
    outbox.append('telemetry', readings(10));
    fwd.wake();
    await until(() => outbox.stats().pendingReadings === 0);
    expect(fwd.stats().broker).toBe(broker.url);
    expect(fwd.stats().connectFailures).toBeGreaterThanOrEqual(1); // the refusing URL was tried first
    expect(fwd.stats().lastError).toBeNull(); // and the working link shows no stale error
    await fwd.stop();
    await sub.client.endAsync();
    outbox.close();
  });

  it('while the broker is away, shows when the next attempt starts, never further out than maxDelay', async () => {
    const outbox = new Outbox({ path: join(dir, 'next.db'), durability: 'normal', rowMaxReadings: 50, retention: { maxBytes: 1e9, maxAgeMs: 1e9 } });
    const fwd = makeForwarder(outbox, ['mqtt://127.0.0.1:1'], { reconnect: { minDelay: 100, maxDelay: 400 } });
    fwd.start();
    const waits: number[] = [];
    const deadline = Date.now() + 4000;
    while (Date.now() < deadline) {
      const next = fwd.stats().nextAttemptAtMs;
      if (next !== null) waits.push(next - Date.now());
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(fwd.stats().connectFailures).toBeGreaterThanOrEqual(8); // ~1.7 s to reach the cap, then ~0.36 s each
    expect(waits.length).toBeGreaterThan(100);
    expect(Math.max(...waits)).toBeLessThanOrEqual(400);
    expect(fwd.stats().connected).toBe(false);
    await fwd.stop();
    expect(fwd.stats().nextAttemptAtMs).toBeNull(); // stop cuts the wait short
    outbox.close();
  });

  it('publishes retained online status and offline on clean stop', async () => {
    const outbox = new Outbox({ path: join(dir, 'c.db'), durability: 'normal', encoder: rowEncoder(1), rowMaxReadings: 50, retention: { maxBytes: 1e9, maxAgeMs: 1e9 } });
    const fwd = makeForwarder(outbox);
    fwd.start();
    await until(() => fwd.stats().connected);
    const read = async () => {
      const c = await mqtt.connectAsync(broker.url, { clientId: `st-${Math.random()}` });
      const got = new Promise<string>((r) => c.on('message', (_t, p) => r(p.toString())));
      await c.subscribeAsync(topics.status, { qos: 1 });
      const v = await got;
      await c.endAsync();
      return v;
    };
    expect(await read()).toBe('online');
    await fwd.stop();
    expect(await read()).toBe('offline');
    outbox.close();
  });

  it('connects over TLS with a client certificate and a password, and says why when the password is wrong', async () => {
    const secure = await startBroker({ tls: { requireClientCert: true }, auth: { username: 'gw', password: 's3cret' } });
    try {
      const certs = secure.certs!;
      const tls = {
        ca: readFileSync(certs.caFile),
        cert: readFileSync(certs.clientCertFile),
        key: readFileSync(certs.clientKeyFile),
        rejectUnauthorized: true,
      };
      const outbox = new Outbox({ path: join(dir, 'tls.db'), durability: 'normal', encoder: rowEncoder(1), rowMaxReadings: 50, retention: { maxBytes: 1e9, maxAgeMs: 1e9 } });
      const fwd = makeForwarder(outbox, [secure.tlsUrl!], { tls, username: 'gw', password: 's3cret' });
      fwd.start();
      outbox.append('telemetry', readings(20));
      fwd.wake();
      await until(() => outbox.stats().pendingReadings === 0);
      expect(fwd.stats().broker).toBe(secure.tlsUrl);
      await fwd.stop();

      const wrong = makeForwarder(outbox, [secure.tlsUrl!], { tls, username: 'gw', password: 'nope' });
      wrong.start();
      await until(() => wrong.stats().connectFailures > 0);
      expect(wrong.stats().connected).toBe(false);
      expect(wrong.stats().lastError?.message).toMatch(/Not authorized|Bad username or password/i);
      await wrong.stop();
      outbox.close();
    } finally {
      await secure.dispose();
    }
  });

  it('with batchMaxWait, small commits travel together, and a held batch still leaves when nothing more comes', async () => {
    const outbox = new Outbox({ path: join(dir, 'hold.db'), durability: 'normal', encoder: rowEncoder(1), rowMaxReadings: 50, retention: { maxBytes: 1e9, maxAgeMs: 1e9 } });
    const sub = await collector();
    const fwd = makeForwarder(outbox, [broker.url], { batchMaxWaitMs: 400 });
    fwd.start();
    await until(() => fwd.stats().connected);
    const before = sub.batches.length;
    for (let i = 0; i < 5; i++) {
      outbox.append('telemetry', readings(4)); // five commits of 4, 50 ms apart
      fwd.wake();
      await new Promise((r) => setTimeout(r, 50));
    }
    await until(() => outbox.stats().pendingReadings === 0, 5000); // left on the hold timer alone
    await until(() => sub.batches.slice(before).reduce((n, b) => n + b.count, 0) === 20);
    expect(sub.batches.slice(before).length).toBeLessThan(5);
    await fwd.stop();
    await sub.client.endAsync();
    outbox.close();
  });
});
