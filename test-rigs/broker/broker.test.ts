import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { BROKER_ENV, chooseBrokerKind, MOSQUITTO_BINARY, startBroker, type BrokerFixture, type BrokerKind } from './broker.js';
import { canConnect } from './port.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.().catch(() => undefined);
});

async function broker(opts: Parameters<typeof startBroker>[0]): Promise<BrokerFixture> {
  const b = await startBroker(opts);
  cleanups.push(() => b.dispose());
  return b;
}

async function client(url: string, opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5_000, ...opts });
  cleanups.push(() => c.endAsync(true));
  return c;
}

/**
 * Connects and collects messages from the very first packet: with a resumed session the broker
 * sends queued messages right behind CONNACK, before connectAsync() would hand us the client.
 */
function reconnectAndCollect(url: string, opts: mqtt.IClientOptions, n: number, timeoutMs?: number): Promise<string[]> {
  const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5_000, ...opts });
  cleanups.push(() => c.endAsync(true));
  return collect(c, n, timeoutMs);
}

/** Collects messages until `n` have arrived or the bound passes. */
function collect(c: MqttClient, n: number, timeoutMs = 20_000): Promise<string[]> {
  const got: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`got ${got.length} of ${n} messages within ${timeoutMs} ms`)),
      timeoutMs,
    );
    c.on('message', (_topic, payload) => {
      got.push(payload.toString());
      if (got.length === n) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

describe('chooseBrokerKind', () => {
  it('honours an explicit option over the environment', () => {
    expect(chooseBrokerKind('aedes', 'mosquitto', '/nonexistent/mosquitto')).toBe('aedes');
  });
  it('falls back to aedes when mosquitto is missing and nothing is required', () => {
    expect(chooseBrokerKind(undefined, undefined, '/nonexistent/mosquitto')).toBe('aedes');
    expect(chooseBrokerKind(undefined, 'auto', '/nonexistent/mosquitto')).toBe('aedes');
  });
  it(`fails hard with BROKER_UNAVAILABLE when ${BROKER_ENV}=mosquitto and it is missing`, () => {
    expect(() => chooseBrokerKind(undefined, 'mosquitto', '/nonexistent/mosquitto')).toThrow(
      expect.objectContaining({ code: 'BROKER_UNAVAILABLE', message: expect.stringContaining('/nonexistent/mosquitto') }),
    );
  });
  it('rejects an unknown value with BROKER_BAD_ENV', () => {
    expect(() => chooseBrokerKind(undefined, 'rabbitmq', MOSQUITTO_BINARY)).toThrow(
      expect.objectContaining({ code: 'BROKER_BAD_ENV' }),
    );
  });
  it('forces aedes when asked even if mosquitto exists', () => {
    expect(chooseBrokerKind(undefined, 'aedes', process.execPath)).toBe('aedes');
  });
});

// The default choice (mosquitto here and in CI) plus the aedes fallback, so both stay honest.
const kinds = [...new Set<BrokerKind>([chooseBrokerKind(undefined, process.env[BROKER_ENV], MOSQUITTO_BINARY), 'aedes'])];

describe.each(kinds)('broker fixture (%s)', (kind) => {
  it('carries QoS 1 messages between two clients', async () => {
    const b = await broker({ kind });
    expect(b.kind).toBe(kind);
    expect(b.url).toBe(`mqtt://127.0.0.1:${b.port}`);
    const sub = await client(b.url);
    await sub.subscribeAsync('t/#', { qos: 1 });
    const got = collect(sub, 3);
    const pub = await client(b.url);
    for (const n of [1, 2, 3]) await pub.publishAsync('t/x', `m${n}`, { qos: 1 });
    expect(await got).toEqual(['m1', 'm2', 'm3']);
  });

  it('stops, refuses connections, and restarts on the same port', async () => {
    const b = await broker({ kind });
    const port = b.port;
    await b.stop();
    expect(b.isRunning).toBe(false);
    expect(await canConnect('127.0.0.1', port)).toBe(false);
    await b.start();
    expect(b.isRunning).toBe(true);
    expect(b.port).toBe(port);
    const c = await client(b.url);
    expect(c.connected).toBe(true);
  });

  it('kill() drops connected clients at once', async () => {
    const b = await broker({ kind });
    const c = await client(b.url);
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    await b.kill();
    expect(b.isRunning).toBe(false);
    await closed;
    await b.start();
    expect(await canConnect('127.0.0.1', b.port)).toBe(true);
  });

  it('queues far more than 1000 QoS 1 messages for an offline persistent subscriber', async () => {
    // mosquitto's default max_queued_messages (1000) would silently drop the rest.
    const b = await broker({ kind });
    const id = `queue-${kind}-${Date.now()}`;
    const sub = await client(b.url, { clientId: id, clean: false });
    await sub.subscribeAsync('q/#', { qos: 1 });
    await sub.endAsync();
    const pub = await client(b.url);
    const total = 3_000;
    await Promise.all(Array.from({ length: total }, (_, i) => pub.publishAsync('q/x', String(i), { qos: 1 })));
    const got = await reconnectAndCollect(b.url, { clientId: id, clean: false }, total, 30_000);
    expect(new Set(got).size).toBe(total);
  });

  it('with persistence, keeps a persistent session and its queue across a restart', async () => {
    const b = await broker({ kind, persistence: true });
    const id = `persist-${kind}-${Date.now()}`;
    const sub = await client(b.url, { clientId: id, clean: false });
    await sub.subscribeAsync('p/#', { qos: 1 });
    await sub.endAsync();
    const pub = await client(b.url);
    for (const n of [1, 2, 3]) await pub.publishAsync('p/x', `m${n}`, { qos: 1 });
    await pub.endAsync();
    await b.stop();
    await b.start();
    expect(await reconnectAndCollect(b.url, { clientId: id, clean: false }, 3)).toEqual(['m1', 'm2', 'm3']);
  });

  it('with persistence, keeps queued messages even through kill() once autosaved', async () => {
    const b = await broker({ kind, persistence: true });
    const id = `killed-${kind}-${Date.now()}`;
    const sub = await client(b.url, { clientId: id, clean: false });
    await sub.subscribeAsync('k/#', { qos: 1 });
    await sub.endAsync();
    const pub = await client(b.url);
    for (const n of [1, 2]) await pub.publishAsync('k/x', `m${n}`, { qos: 1 });
    // mosquitto autosaves every second; wait well past that before pulling the plug.
    await new Promise((r) => setTimeout(r, 2_500));
    await b.kill();
    await b.start();
    expect(await reconnectAndCollect(b.url, { clientId: id, clean: false }, 2)).toEqual(['m1', 'm2']);
  });

  it('with auth and TLS, accepts the right credentials over TLS and refuses wrong ones', async () => {
    const b = await broker({ kind, auth: { username: 'gw', password: 's3cret' }, tls: true });
    expect(b.tlsUrl).toBe(`mqtts://127.0.0.1:${b.tlsPort}`);
    const certs = b.certs;
    if (!certs || !b.tlsUrl) throw new Error('fixture returned no certificates for a TLS broker');
    const ok = await client(b.tlsUrl, { ca: readFileSync(certs.caFile), username: 'gw', password: 's3cret' });
    expect(ok.connected).toBe(true);
    await expect(client(b.url, { username: 'gw', password: 'wrong' })).rejects.toThrow(/not authori[sz]ed|bad user|username or password/i);
    await expect(client(b.url)).rejects.toThrow(/not authori[sz]ed|bad user|username or password/i);
    // Without our CA the server certificate must not be trusted.
    await expect(client(b.tlsUrl, { username: 'gw', password: 's3cret' })).rejects.toThrow(/self[- ]signed|certificate/i);
  });

  it('with requireClientCert, admits only clients presenting a certificate from the test CA', async () => {
    const b = await broker({ kind, tls: { requireClientCert: true } });
    const certs = b.certs;
    if (!certs || !b.tlsUrl) throw new Error('fixture returned no certificates for a TLS broker');
    const ca = readFileSync(certs.caFile);
    const ok = await client(b.tlsUrl, {
      ca,
      cert: readFileSync(certs.clientCertFile),
      key: readFileSync(certs.clientKeyFile),
    });
    expect(ok.connected).toBe(true);
    await expect(client(b.tlsUrl, { ca })).rejects.toThrow();
  });
});

describe('broker fixture logs', () => {
  it('keeps the broker log in a file and exposes its tail', async () => {
    const b = await broker({});
    const c = await client(b.url, { clientId: 'log-probe' });
    await c.endAsync();
    await b.stop();
    const text = readFileSync(b.logFile, 'utf8');
    expect(text).toContain(`127.0.0.1:${b.port}`);
    expect(b.logTail(200)).toContain('log-probe');
  });
});
