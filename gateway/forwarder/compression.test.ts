import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type BrokerFixture } from '../../test-rigs/broker/broker.js';
import { TEST_TOPICS, testForwarderOptions } from '../../test-rigs/broker/forwarder-options.js';
import { Outbox } from '../outbox/outbox.js';
import { inflateBatch, isZstd } from '../payload/compression.js';
import { rowEncoder } from '../payload/encode.js';
import { Forwarder } from './forwarder.js';
import { batchPayloadSchema } from './payload-schema.js';

let broker: BrokerFixture;
let dir: string;
beforeAll(async () => {
  broker = await startBroker();
  dir = mkdtempSync(join(tmpdir(), 'forwarder-compression-'));
});
afterAll(async () => {
  await broker?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** An outbox with `readings` appended, a forwarder with `compression: zstd`, and a subscriber keeping every telemetry payload. */
async function zstdForwarder(file: string, readings: number, keepAcked?: { maxAgeMs: number; maxBytes: number }) {
  const outbox = new Outbox({ path: join(dir, file), durability: 'normal', encoder: rowEncoder(1), rowMaxReadings: 50, retention: { maxBytes: 1e9, maxAgeMs: 1e9 }, ...(keepAcked ? { keepAcked } : {}) });
  const payloads: Buffer[] = [];
  const sub = await mqtt.connectAsync(broker.url, { clientId: `sub-${Math.random()}`, clean: true });
  sub.on('message', (_t, p) => payloads.push(p));
  await sub.subscribeAsync([TEST_TOPICS.telemetry], { qos: 1 });
  const fwd = new Forwarder(testForwarderOptions(outbox, [broker.url], { compression: 'zstd' }));
  fwd.start();
  outbox.append('telemetry', Array.from({ length: readings }, (_, i) => ({ device: 'd', point: 'p', value: i, quality: 'good' as const, ts: Date.now() })));
  fwd.wake();
  return { outbox, payloads, sub, fwd };
}

describe('forward.compression: zstd', () => {
  it('publishes every batch as one zstd frame holding the documented JSON batch', async () => {
    const { outbox, payloads, sub, fwd } = await zstdForwarder('z.db', 250);
    const deadline = Date.now() + 15_000;
    while (outbox.stats().pendingReadings > 0 || payloads.length < 3) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 20));
    }
    await fwd.stop();
    await sub.endAsync();
    outbox.close();
    expect(payloads.every(isZstd)).toBe(true);
    const seqs = payloads.flatMap((p) => batchPayloadSchema.parse(JSON.parse(inflateBatch(p).toString('utf8'))).readings.map((r) => r.seq));
    expect(seqs).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
  }, 30_000);

  // A replay (docs/commands.md) can be a long range: sent uncompressed it cost 7x (v2) to 20x (v1) the bytes of the
  // batches it repeats, on the same metered link.
  it('sends replayed batches as zstd frames too, marked replay', async () => {
    const { outbox, payloads, sub, fwd } = await zstdForwarder('r.db', 100, { maxAgeMs: 600_000, maxBytes: 1e9 });
    const deadline = Date.now() + 15_000;
    while (outbox.stats().pendingReadings > 0 || fwd.stats().inflightBatches > 0) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 20));
    }
    const kept = outbox.readKept('telemetry', 0, 1, 100, 5000, 512 * 1024);
    expect(kept?.count).toBe(100);
    const sent = payloads.length;
    await fwd.publishReplay(kept!);
    while (payloads.length === sent) await new Promise((r) => setTimeout(r, 20));
    await fwd.stop();
    await sub.endAsync();
    outbox.close();
    const replayed = payloads.at(-1)!;
    expect(isZstd(replayed)).toBe(true);
    const batch = JSON.parse(inflateBatch(replayed).toString('utf8')) as { replay?: boolean; readings: { seq: number }[] };
    expect(batch.replay).toBe(true);
    expect(batch.readings.map((r) => r.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  }, 30_000);
});
