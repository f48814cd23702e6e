import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reading } from '../../../drivers/reading.js';
import { startBroker, type BrokerFixture } from '../../../test-rigs/broker/broker.js';
import { TEST_TOPICS, testForwarderOptions } from '../../../test-rigs/broker/forwarder-options.js';
import { flood, packetBytes, startHostileBroker, type HostileBroker } from '../../../test-rigs/broker/hostile-broker.js';
import { Outbox } from '../../outbox/outbox.js';
import { Forwarder, type ForwarderOptions } from '../forwarder.js';
import type { InboundMessage } from './inbound-guard.js';

/**
 * The forwarder's inbound gate against a fake broker that misbehaves on purpose, and against
 * mosquitto for the messages it is meant to let through (the command channel's plug).
 */
let hostile: HostileBroker;
let broker: BrokerFixture;
let dir: string;
beforeAll(async () => {
  hostile = await startHostileBroker();
  broker = await startBroker();
  dir = mkdtempSync(join(tmpdir(), 'inbound-guard-test-'));
});
afterAll(async () => {
  await hostile?.close();
  await broker?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const topics = TEST_TOPICS;

function setup(name: string, url: string, extra: Partial<ForwarderOptions> = {}) {
  const outbox = new Outbox({ path: join(dir, `${name}.db`), durability: 'normal', rowMaxReadings: 50, retention: { maxBytes: 1e9, maxAgeMs: 1e9 } });
  const fwd = new Forwarder(testForwarderOptions(outbox, [url], { clientId: `guard-${name}`, keepaliveMs: 5000, reconnect: { minDelay: 50, maxDelay: 200 }, ...extra }));
  const append = (n: number) => {
    const rs: Reading[] = Array.from({ length: n }, (_, i) => ({ device: 'd', point: 'p', value: i, quality: 'good', ts: Date.now() }));
    outbox.append('telemetry', rs);
    fwd.wake();
  };
  const done = async () => {
    await fwd.stop(200);
    outbox.close();
  };
  return { outbox, fwd, append, done };
}

async function until(cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const unsolicited = (qos: 0 | 1 | 2, bytes: number) => (i: number) =>
  packetBytes({ cmd: 'publish', topic: `x/${i}`, payload: Buffer.alloc(bytes, 1), qos, messageId: qos > 0 ? (i % 65535) + 1 : undefined, dup: false, retain: false });

describe('inbound guard against a hostile broker', () => {
  it('answers an unsolicited QoS 2 flood (PUBREC, then PUBCOMP for the PUBREL) without holding it, counts it, and keeps forwarding', async () => {
    // The read budget is the throttle's business (read-throttle.test.ts); here the flood arrives in full.
    const { fwd, outbox, append, done } = setup('qos2', hostile.url, { inboundLimits: { readBytesPerS: 1e9, readPacketsPerS: 1e9 } });
    let pubrecs = 0;
    let pubcomps = 0;
    hostile.setAttack(async (conn) => {
      for (let i = 0; i < 300; i++) await conn.write(unsolicited(2, 60_000)(i));
      // The broker releases a few; each must be answered with PUBCOMP, and nothing delivered.
      for (let id = 1; id <= 5; id++) await conn.packet({ cmd: 'pubrel', messageId: id });
    });
    const counted = (cmd: string) => hostile.received[cmd] ?? 0;
    const rec0 = counted('pubrec');
    const comp0 = counted('pubcomp');
    try {
      fwd.start();
      await until(() => fwd.stats().inbound.unsolicited >= 300);
      await until(() => counted('pubcomp') - comp0 >= 5);
      pubrecs = counted('pubrec') - rec0;
      pubcomps = counted('pubcomp') - comp0;
      expect(pubrecs).toBe(300);
      expect(pubcomps).toBe(5);
      expect(fwd.stats().inbound.queued).toBe(0);
      expect(fwd.stats().inbound.violations).toBe(0);
      append(250);
      await until(() => outbox.stats().pendingReadings === 0);
      expect(fwd.stats().connects).toBe(1); // one connection throughout
    } finally {
      hostile.setAttack(null);
      await done();
    }
  });

  it('holds a subscribed QoS 2 message until its PUBREL and delivers it on the PUBREL', async () => {
    const got: InboundMessage[] = [];
    const { fwd, done } = setup('qos2-route', hostile.url, { inbound: { filters: ['cmd/#'], handle: (m) => void got.push(m) } });
    const publish = (id: number, payload: string) => packetBytes({ cmd: 'publish', topic: 'cmd/x', payload, qos: 2, messageId: id, dup: false, retain: false });
    hostile.setAttack(async (conn) => {
      await conn.write(publish(11, 'first'));
      await conn.write(publish(12, 'second'));
      await new Promise((r) => setTimeout(r, 200));
      await conn.packet({ cmd: 'pubrel', messageId: 12 });
      await conn.packet({ cmd: 'pubrel', messageId: 11 });
    });
    try {
      fwd.start();
      await until(() => got.length === 2);
      expect(got.map((m) => m.payload.toString())).toEqual(['second', 'first']); // delivered on PUBREL
      expect(fwd.stats().inbound).toMatchObject({ unsolicited: 0, delivered: 2, queued: 0 });
    } finally {
      hostile.setAttack(null);
      await done();
    }
  });

  it('closes the connection on a packet over the limit before reading its body, says why, and reconnects', async () => {
    const { fwd, outbox, append, done } = setup('oversize', hostile.url);
    // The header of a 200 MiB PUBLISH, then a trickle of its body.
    hostile.setAttack(async (conn) => {
      await conn.write(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x64]));
      for (let i = 0; i < 20 && !conn.closed; i++) await conn.write(Buffer.alloc(64 * 1024));
    });
    try {
      fwd.start();
      await until(() => fwd.stats().inbound.violations >= 1);
      expect(fwd.stats().inbound.lastViolation?.message).toMatch(/broker sent a \d+-byte PUBLISH packet; the limit is 262144 bytes/);
      hostile.setAttack(null);
      // (CONNACK and the oversize header may arrive in one read: that attempt never counts as connected.)
      await until(() => fwd.stats().connected);
      append(50);
      await until(() => outbox.stats().pendingReadings === 0);
    } finally {
      hostile.setAttack(null);
      await done();
    }
  });

  it('refuses packets before CONNACK (mqtt.js would queue its answers to them in memory)', async () => {
    const { fwd, done } = setup('early', hostile.url);
    hostile.setAttack(flood(unsolicited(1, 10), Date.now() + 2000), { beforeConnack: true });
    try {
      fwd.start();
      await until(() => fwd.stats().inbound.violations >= 1);
      expect(fwd.stats().inbound.lastViolation?.message).toBe('broker sent PUBLISH before CONNACK');
      expect(fwd.stats().connected).toBe(false);
    } finally {
      hostile.setAttack(null);
      await done();
    }
  });
});

describe('inbound route (the command channel plug) against mosquitto', () => {
  it('subscribes to its filters and delivers matching messages of every QoS, in order; drops over-size and over-rate ones', async () => {
    const got: InboundMessage[] = [];
    const route = { filters: [`${topics.status}/cmd/#`], handle: (m: InboundMessage) => void got.push(m) };
    const { fwd, done } = setup('route', broker.url, { inbound: route, inboundLimits: { maxMessageBytes: 100, messagesPerS: 1, burst: 5 } });
    const pub = await mqtt.connectAsync(broker.url, { clientId: 'route-pub' });
    try {
      fwd.start();
      await until(() => fwd.stats().connected);
      // SUBACK is not awaited by the forwarder: publish until the subscription is in place.
      await until(() => {
        if (got.length === 0) void pub.publishAsync(`${topics.status}/cmd/probe`, 'probe', { qos: 0 });
        return got.length > 0;
      });
      const start = got.length;
      await pub.publishAsync(`${topics.status}/cmd/a`, 'one', { qos: 0 });
      await pub.publishAsync(`${topics.status}/cmd/b`, 'two', { qos: 1 });
      await pub.publishAsync(`${topics.status}/cmd/c`, 'three', { qos: 2 });
      await pub.publishAsync(`${topics.status}/cmd/big`, Buffer.alloc(101), { qos: 1 });
      await until(() => got.length >= start + 3 && fwd.stats().inbound.tooLarge === 1);
      expect(got.slice(start).map((m) => [m.topic.split('/').pop(), m.payload.toString(), m.qos])).toEqual([
        ['a', 'one', 0],
        ['b', 'two', 1],
        ['c', 'three', 1], // subscribed at QoS 1: the broker downgrades
      ]);
      for (let i = 0; i < 20; i++) await pub.publishAsync(`${topics.status}/cmd/burst`, `${i}`, { qos: 1 });
      await until(() => fwd.stats().inbound.overLimit > 0);
      expect(fwd.stats().inbound.unsolicited).toBe(0);
      expect(fwd.stats().inbound.delivered).toBe(got.length);
    } finally {
      await pub.endAsync();
      await done();
    }
  });
});
