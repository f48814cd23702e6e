import net from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type BrokerFixture } from '../broker/broker.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  while (cleanups.length) await Promise.resolve(cleanups.pop()?.()).catch(() => undefined);
});

let echo: net.Server;
let echoPort: number;
const echoSockets = new Set<net.Socket>();

beforeAll(async () => {
  echo = net.createServer((s) => {
    echoSockets.add(s);
    s.on('close', () => echoSockets.delete(s));
    s.on('error', () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as net.AddressInfo).port;
});

afterAll(async () => {
  for (const s of echoSockets) s.destroy();
  await new Promise<void>((r) => echo.close(() => r()));
});

async function proxyToEcho(): Promise<FaultProxy> {
  const p = await startFaultProxy({ target: { host: '127.0.0.1', port: echoPort } });
  cleanups.push(() => p.stop());
  return p;
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.off('error', reject);
      cleanups.push(() => void s.destroy());
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Bytes that arrive on `s` within `ms` (bounded wait). */
function receive(s: net.Socket, bytes: number, ms: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let n = 0;
    const done = (): void => {
      clearTimeout(timer);
      s.off('data', onData);
      resolve(Buffer.concat(chunks));
    };
    const onData = (d: Buffer): void => {
      chunks.push(d);
      n += d.length;
      if (n >= bytes) done();
    };
    const timer = setTimeout(done, ms);
    s.on('data', onData);
  });
}

function closedWith(s: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let code = 'none';
    s.on('error', (e: NodeJS.ErrnoException) => (code = e.code ?? e.message));
    s.once('close', () => resolve(code));
  });
}

describe('fault proxy with a TCP echo server', () => {
  it('pass: forwards bytes both ways and counts them', async () => {
    const p = await proxyToEcho();
    const s = await connect(p.port);
    s.write('hello');
    expect((await receive(s, 5, 5_000)).toString()).toBe('hello');
    expect(p.stats).toMatchObject({ accepted: 1, active: 1, bytesUp: 5, bytesDown: 5 });
  });

  it('reset: open connections get ECONNRESET, and so do new ones until pass', async () => {
    const p = await proxyToEcho();
    const s = await connect(p.port);
    const closed = closedWith(s);
    await p.mode('reset');
    expect(await closed).toBe('ECONNRESET');
    const late = await connect(p.port).catch((e: NodeJS.ErrnoException) => e);
    if (late instanceof net.Socket) expect(await closedWith(late)).toBe('ECONNRESET');
    else expect(late.code).toBe('ECONNRESET');
    await p.mode('pass');
    const again = await connect(p.port);
    again.write('x');
    expect((await receive(again, 1, 5_000)).toString()).toBe('x');
  });

  it('resetAll: resets what is open once, without changing mode', async () => {
    const p = await proxyToEcho();
    const s = await connect(p.port);
    const closed = closedWith(s);
    p.resetAll();
    expect(await closed).toBe('ECONNRESET');
    expect(p.current).toBe('pass');
    const next = await connect(p.port);
    next.write('y');
    expect((await receive(next, 1, 5_000)).toString()).toBe('y');
  });

  it('blackhole: the socket stays open but nothing comes back, and the connection stays dead after pass', async () => {
    const p = await proxyToEcho();
    const s = await connect(p.port);
    await p.mode('blackhole');
    s.write('lost');
    expect((await receive(s, 1, 500)).length).toBe(0);
    expect(s.destroyed).toBe(false);
    expect(p.stats.droppedUp).toBe(4);
    // A connection that arrives during the blackhole is accepted and then ignored.
    const fresh = await connect(p.port);
    fresh.write('gone');
    expect((await receive(fresh, 1, 300)).length).toBe(0);
    await p.mode('pass');
    s.write('still lost');
    expect((await receive(s, 1, 300)).length).toBe(0);
    // A new connection after the outage works.
    const after = await connect(p.port);
    after.write('ok');
    expect((await receive(after, 2, 5_000)).toString()).toBe('ok');
  });

  it('stall: writers see backpressure and no data, then everything arrives intact after pass', async () => {
    const p = await proxyToEcho();
    const s = await connect(p.port);
    await p.mode('stall');
    const payload = Buffer.alloc(8 * 1024 * 1024, 0x5a);
    const accepted = s.write(payload);
    expect(accepted).toBe(false);
    expect((await receive(s, 1, 500)).length).toBe(0);
    expect(s.destroyed).toBe(false);
    await p.mode('pass');
    const back = await receive(s, payload.length, 20_000);
    expect(back.length).toBe(payload.length);
    expect(back.equals(payload)).toBe(true);
  });

  it('refuse: new connects get ECONNREFUSED, open ones carry on, and pass reopens the same port', async () => {
    const p = await proxyToEcho();
    const open = await connect(p.port);
    await p.mode('refuse');
    await expect(connect(p.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    open.write('alive');
    expect((await receive(open, 5, 5_000)).toString()).toBe('alive');
    await p.mode('pass');
    const s = await connect(p.port);
    s.write('z');
    expect((await receive(s, 1, 5_000)).toString()).toBe('z');
  });

  it('resets the client when the target is down', async () => {
    const dead = await startFaultProxy({ target: { host: '127.0.0.1', port: await unusedPort() } });
    cleanups.push(() => dead.stop());
    const s = await connect(dead.port);
    expect(await closedWith(s)).toBe('ECONNRESET');
    expect(dead.stats.upstreamErrors).toBe(1);
  });
});

async function unusedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('fault proxy with mqtt.js and the broker fixture', () => {
  let broker: BrokerFixture;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    await broker?.dispose();
  });

  async function mqttThrough(p: FaultProxy, opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${p.port}`, { reconnectPeriod: 0, connectTimeout: 5_000, ...opts });
    c.on('error', () => undefined);
    cleanups.push(() => c.endAsync(true));
    return c;
  }

  async function proxyToBroker(): Promise<FaultProxy> {
    const p = await startFaultProxy({ target: { host: '127.0.0.1', port: broker.port } });
    cleanups.push(() => p.stop());
    return p;
  }

  it('blackhole: mqtt.js with keepalive 2 s notices within a few keepalives and closes', async () => {
    const p = await proxyToBroker();
    const c = await mqttThrough(p, { keepalive: 2 });
    await c.publishAsync('nf/x', 'before', { qos: 1 });
    const started = Date.now();
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    await p.mode('blackhole');
    await closed;
    // Detection takes 1-2 keepalives; 15 s is a generous bound on a noisy box.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(c.connected).toBe(false);
  });

  it('stall: a QoS 1 publish waits for its PUBACK until the stall ends, then completes', async () => {
    const p = await proxyToBroker();
    const c = await mqttThrough(p, { keepalive: 60 });
    await p.mode('stall');
    let acked = false;
    const pub = c.publishAsync('nf/stall', 'payload', { qos: 1 }).then(() => {
      acked = true;
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(acked).toBe(false);
    await p.mode('pass');
    await pub;
    expect(acked).toBe(true);
  });

  it('reset and refuse: the client drops, cannot reconnect while refused, and reconnects after pass', async () => {
    const p = await proxyToBroker();
    const c = await mqttThrough(p, { reconnectPeriod: 200 });
    const offline = new Promise<void>((resolve) => c.once('offline', () => resolve()));
    await p.mode('refuse');
    p.resetAll();
    await offline;
    await new Promise((r) => setTimeout(r, 600));
    expect(c.connected).toBe(false);
    const back = new Promise<void>((resolve) => c.once('connect', () => resolve()));
    await p.mode('pass');
    await back;
    await c.publishAsync('nf/back', 'ok', { qos: 1 });
    expect(p.stats.resets).toBeGreaterThanOrEqual(1);
  });
});
