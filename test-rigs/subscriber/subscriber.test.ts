import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type BrokerFixture } from '../broker/broker.js';
import { SeqTracker } from './seq-tracker.js';
import { startSubscriber, type Subscriber } from './subscriber.js';

const PREFIX = 'city';
const GW = 'gw-1';

let broker: BrokerFixture;
let pub: MqttClient;
const subs: Subscriber[] = [];

beforeAll(async () => {
  broker = await startBroker();
  pub = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
});

afterAll(async () => {
  for (const s of subs) await s.stop().catch(() => undefined);
  await pub?.endAsync(true);
  await broker?.dispose();
});

let counter = 0;
function batch(seqs: number[], opts: { event?: boolean; outbox?: string; batchId?: string; value?: number } = {}): string {
  return JSON.stringify({
    v: 1,
    gateway: GW,
    outbox: opts.outbox ?? 'ob-1',
    batch: opts.batchId ?? `boot-${++counter}`,
    firstSeq: seqs[0],
    lastSeq: seqs[seqs.length - 1],
    count: seqs.length,
    sentAt: Date.now(),
    readings: seqs.map((seq) => ({
      seq,
      device: opts.event ? 'gate-1' : 'pump-3',
      point: opts.event ? 'scan' : 'flow',
      value: opts.event ? 'ABC123' : (opts.value ?? 12.5),
      ...(opts.event ? { kind: 'event', attrs: { lane: 2 } } : { unit: 'l/s' }),
      quality: 'good',
      // A function of the seq: a redelivered reading is byte-for-byte the one sent first.
      ts: 1_764_061_200_000 + seq,
    })),
  });
}

/**
 * A v2 batch: each `[seq, n]` is a poll record of `n` pump-3 values (flow, level...) at one ts;
 * a bare seq is a v1 reading in the batch() shape. Same content as batch() gives those seqs.
 */
const PUMP = 'a0b1c2d3e4f5';
const PUMP_POINTS = ['flow', 'level', 'running'];
function batchV2(items: Array<number | [number, number]>, opts: { batchId?: string; layouts?: unknown } = {}): string {
  const seqs = items.flatMap((it) => (typeof it === 'number' ? [it] : range(it[0], it[0] + it[1] - 1)));
  const readings = items.map((it) =>
    typeof it === 'number'
      ? JSON.parse(batch([it])).readings[0]
      : { seq: it[0], layout: PUMP, ts: 1_764_061_200_000 + it[0], values: [12.5, 3, true].slice(0, it[1]) },
  );
  const records = items.some((it) => typeof it !== 'number');
  return JSON.stringify({
    v: 2, gateway: GW, outbox: 'ob-1', batch: opts.batchId ?? `boot-${++counter}`,
    firstSeq: seqs[0], lastSeq: seqs[seqs.length - 1], count: seqs.length, sentAt: Date.now(),
    ...(records ? { layouts: opts.layouts ?? { [PUMP]: { device: 'pump-3', points: PUMP_POINTS, units: ['l/s', 'm', null] } } } : {}),
    readings,
  });
}

const topic = (t: string): string => `${PREFIX}/${GW}/${t}`;
const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);

async function subscriber(clientId: string, extra: { trackers?: Map<string, SeqTracker> } = {}): Promise<Subscriber> {
  const s = await startSubscriber({ url: broker.url, prefix: PREFIX, gatewayId: GW, clientId, keepReadings: true, ...extra });
  subs.push(s);
  return s;
}

describe('reference subscriber against a real broker', () => {
  it('reports a gap, a duplicate, out-of-order events, malformed payloads, status and declared drops', async () => {
    const s = await subscriber(`it-main-${Date.now()}`);
    await pub.publishAsync(topic('status'), 'online', { qos: 1, retain: true });
    await pub.publishAsync(topic('telemetry'), batch(range(1, 5)), { qos: 1 });
    // An event overtakes the telemetry backlog: seq 12 arrives before 8..11.
    await pub.publishAsync(topic('events'), batch([12], { event: true }), { qos: 1 });
    await pub.publishAsync(topic('telemetry'), batch(range(8, 11)), { qos: 1 });
    // A QoS 1 redelivery of seqs 4..5 in a different batch.
    await pub.publishAsync(topic('telemetry'), batch([4, 5], { batchId: 'boot-redelivered' }), { qos: 1 });
    await pub.publishAsync(topic('telemetry'), 'not json', { qos: 1 });
    await pub.publishAsync(topic('telemetry'), JSON.stringify({ v: 3, gateway: GW }), { qos: 1 });
    const descending = JSON.parse(batch([14, 13])) as Record<string, unknown>;
    await pub.publishAsync(topic('telemetry'), JSON.stringify({ ...descending, firstSeq: 14, lastSeq: 13 }), { qos: 1 });

    await s.waitFor((x) => x.counters.batches === 4 && x.counters.malformed === 3 && x.status === 'online', 10_000);
    expect(s.tracker.gaps()).toEqual([[6, 7]]);
    expect(s.tracker.duplicates).toBe(2);
    expect(s.tracker.duplicateBatches()).toEqual([{ batch: 'boot-redelivered', count: 2 }]);
    expect(s.readings.filter((r) => r.topic === 'events')).toMatchObject([{ seq: 12, kind: 'event', attrs: { lane: 2 } }]);
    expect(s.malformed.map((m) => m.reason)).toEqual([
      expect.stringContaining('not JSON'),
      expect.stringContaining('v: 3 is not a payload version'),
      expect.stringContaining('must ascend'),
    ]);

    // The gateway's health message declares 6 dropped by retention: only 7 is still missing.
    const health = { v: 1, gateway: GW, ts: Date.now(), outbox: { id: 'ob-1', pendingReadings: 0, dropped: { readings: 1, ranges: [[6, 6]] } } };
    await pub.publishAsync(topic('health'), JSON.stringify(health), { qos: 1, retain: true });
    await s.waitFor((x) => x.lastHealth !== null, 10_000);
    expect(s.tracker.gaps()).toEqual([[7, 7]]);
    expect(s.tracker.checkComplete(1, 12)).toMatchObject({ complete: false, missing: [[7, 7]], dropped: [[6, 6]] });

    await pub.publishAsync(topic('telemetry'), batch([7]), { qos: 1 });
    await s.waitFor((x) => x.tracker.has(7), 10_000);
    expect(s.tracker.checkComplete(1, 12).complete).toBe(true);
    expect(s.summary()).toMatchObject({ received: 11, duplicates: 2, gaps: [], malformed: 3, status: 'online' });

    // The outbox.dropped event is the durable record of a retention drop (health is QoS 0).
    const dropEvent = {
      v: 1, gateway: GW, outbox: 'ob-1', batch: 'boot-drop', firstSeq: 20, lastSeq: 20, count: 1, sentAt: Date.now(),
      readings: [{ seq: 20, device: '_gateway', point: 'outbox.dropped', value: 5, quality: 'good', ts: Date.now(), kind: 'event',
        attrs: { fromSeq: 13, toSeq: 17, stream: 'telemetry', reason: 'max-bytes' } }],
    };
    await pub.publishAsync(topic('events'), JSON.stringify(dropEvent), { qos: 1 });
    await s.waitFor((x) => x.tracker.has(20), 10_000);
    expect(s.tracker.gaps()).toEqual([[18, 19]]);

    // Seqs skipped after a power cut are declared by an outbox.skipped event; seq 21 arrives
    // again with other content: reused, flagged apart from the redelivered duplicates.
    const skipEvent = { ...dropEvent, batch: 'boot-skip', firstSeq: 30, lastSeq: 30,
      readings: [{ ...dropEvent.readings[0]!, seq: 30, point: 'outbox.skipped', value: 8, attrs: { fromSeq: 22, toSeq: 29, reason: 'unclean-shutdown' } }] };
    await pub.publishAsync(topic('telemetry'), batch([18, 19, 21]), { qos: 1 });
    await pub.publishAsync(topic('telemetry'), batch([21], { value: 99, batchId: 'boot-reused' }), { qos: 1 });
    await pub.publishAsync(topic('events'), JSON.stringify(skipEvent), { qos: 1 });
    await s.waitFor((x) => x.tracker.has(30), 10_000);
    expect(s.tracker.gaps()).toEqual([]);
    expect(s.tracker.reused).toBe(1);
    expect(s.tracker.reusedSeqs()).toEqual([{ seq: 21, batch: 'boot-reused' }]);
    expect(s.tracker.duplicates).toBe(2);

    await pub.publishAsync(topic('status'), 'offline', { qos: 1, retain: true });
    await s.waitFor((x) => x.status === 'offline', 10_000);
    // Leave no retained state behind for the other tests.
    await pub.publishAsync(topic('status'), '', { qos: 1, retain: true });
    await pub.publishAsync(topic('health'), '', { qos: 1, retain: true });
    await s.stop();
  });

  it('reads v2 poll records as the readings they stand for, next to v1 batches, and rejects a malformed one', async () => {
    const s = await subscriber(`it-v2-${Date.now()}`);
    await pub.publishAsync(topic('telemetry'), batch(range(1, 3)), { qos: 1 });
    // Records of the whole layout (3 values) around a v1 reading.
    await pub.publishAsync(topic('telemetry'), batchV2([[4, 3], 7, [8, 3]]), { qos: 1 });
    // A v2 batch without records, and one whose record names no layout it carries.
    await pub.publishAsync(topic('events'), batchV2([11]), { qos: 1 });
    await pub.publishAsync(topic('telemetry'), batchV2([[12, 3]], { layouts: { bbbbbbbbbbbb: { device: 'pump-3', points: PUMP_POINTS } } }), { qos: 1 });

    await s.waitFor((x) => x.counters.batches === 3 && x.counters.malformed === 1, 10_000);
    expect(s.malformed.map((m) => m.reason)).toEqual([expect.stringContaining(`layout ${PUMP} is not in layouts`)]);
    expect(s.summary()).toMatchObject({ received: 11, readings: 11, gaps: [], duplicates: 0, reused: 0 });
    expect(s.readings.filter((r) => r.seq >= 4 && r.seq <= 7)).toEqual([
      { seq: 4, device: 'pump-3', point: 'flow', unit: 'l/s', value: 12.5, quality: 'good', ts: 1_764_061_200_004, batch: expect.any(String), topic: 'telemetry' },
      { seq: 5, device: 'pump-3', point: 'level', unit: 'm', value: 3, quality: 'good', ts: 1_764_061_200_004, batch: expect.any(String), topic: 'telemetry' },
      { seq: 6, device: 'pump-3', point: 'running', value: true, quality: 'good', ts: 1_764_061_200_004, batch: expect.any(String), topic: 'telemetry' },
      { seq: 7, device: 'pump-3', point: 'flow', unit: 'l/s', value: 12.5, quality: 'good', ts: 1_764_061_200_007, batch: expect.any(String), topic: 'telemetry' },
    ]);
  });

  it('counts seqs redelivered as v2 after a switch from v1 as duplicates, not reused', async () => {
    const s = await subscriber(`it-v1v2-${Date.now()}`);
    // What the gateway sent as v1 before the switch: seqs 1..3 of one poll of pump-3.
    const v1 = {
      v: 1, gateway: GW, outbox: 'ob-1', batch: 'boot-v1', firstSeq: 1, lastSeq: 3, count: 3, sentAt: Date.now(),
      readings: [
        { seq: 1, device: 'pump-3', point: 'flow', unit: 'l/s', value: 12.5, quality: 'good', ts: 1_764_061_200_001 },
        { seq: 2, device: 'pump-3', point: 'level', unit: 'm', value: 3, quality: 'good', ts: 1_764_061_200_001 },
        { seq: 3, device: 'pump-3', point: 'running', value: true, quality: 'good', ts: 1_764_061_200_001 },
      ],
    };
    await pub.publishAsync(topic('telemetry'), JSON.stringify(v1), { qos: 1 });
    await pub.publishAsync(topic('telemetry'), batchV2([[1, 3]], { batchId: 'boot-v2-resent' }), { qos: 1 });
    await s.waitFor((x) => x.counters.batches === 2, 10_000);
    expect(s.summary()).toMatchObject({ received: 3, duplicates: 3, reused: 0, malformed: 0 });
    expect(s.tracker.duplicateBatches()).toEqual([{ batch: 'boot-v2-resent', count: 3 }]);
  });

  it('receives what was published while it was disconnected (persistent session)', async () => {
    const id = `it-persist-${Date.now()}`;
    const first = await subscriber(id);
    await pub.publishAsync(topic('telemetry'), batch(range(101, 150), { outbox: 'ob-p' }), { qos: 1 });
    await first.waitFor((x) => x.tracker.receivedCount === 50, 10_000);
    await first.stop();

    for (let from = 151; from <= 1150; from += 100) {
      await pub.publishAsync(topic('telemetry'), batch(range(from, from + 99), { outbox: 'ob-p' }), { qos: 1 });
    }

    const again = await subscriber(id, { trackers: first.trackers });
    await again.waitFor((x) => x.tracker.receivedCount === 1050, 15_000);
    expect(again.tracker.checkComplete(101, 1150)).toMatchObject({ complete: true });
    expect(again.tracker.duplicates).toBe(0);
  });

  it('keeps a separate seq space per gateway outbox', async () => {
    const s = await subscriber(`it-outbox-${Date.now()}`);
    await pub.publishAsync(topic('telemetry'), batch(range(1, 3), { outbox: 'old' }), { qos: 1 });
    await pub.publishAsync(topic('telemetry'), batch(range(1, 2), { outbox: 'new' }), { qos: 1 });
    await s.waitFor((x) => x.counters.batches === 2, 10_000);
    expect(s.trackers.get('old')?.receivedCount).toBe(3);
    expect(s.trackers.get('new')?.receivedCount).toBe(2);
    expect(s.tracker).toBe(s.trackers.get('new'));
    expect(s.tracker.duplicates).toBe(0);
  });

  it('rejects waitFor with WAIT_TIMEOUT and a summary when the condition never holds', async () => {
    const s = await subscriber(`it-timeout-${Date.now()}`);
    await expect(s.waitFor((x) => x.tracker.receivedCount > 0, 300)).rejects.toMatchObject({
      code: 'WAIT_TIMEOUT',
      message: expect.stringContaining('"received":0'),
    });
  });

  it('fails with CONNECT_FAILED when nothing listens at the URL', async () => {
    const stopped = await startBroker();
    const url = stopped.url;
    await stopped.dispose();
    await expect(
      startSubscriber({ url, prefix: PREFIX, gatewayId: GW, clientId: 'nobody', mqtt: { reconnectPeriod: 0 } }),
    ).rejects.toMatchObject({ code: 'CONNECT_FAILED', message: expect.stringContaining(url) });
  });
});
