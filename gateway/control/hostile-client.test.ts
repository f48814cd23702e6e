import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type BrokerFixture } from '../../test-rigs/broker/broker.js';
import { writeConfigDir, type ConfigDir } from '../../test-rigs/harness/config-dir.js';
import { GatewayProcess } from '../../test-rigs/harness/gateway-process.js';
import { request } from './client.js';
import { MAX_REQUEST_BYTES } from './protocol.js';

/**
 * A local user (or a confused script) on the control socket of the real daemon: non-object
 * requests, half-sent and oversized lines, more connections than allowed, and a process out of
 * file descriptors. Each is answered or refused with a reason; the daemon stays up and `status`
 * keeps answering.
 */

let broker: BrokerFixture;

beforeAll(async () => {
  broker = await startBroker();
}, 30_000);

afterAll(async () => {
  await broker?.stop();
});

/** Connect, send `bytes` (without closing our side), and collect what the daemon sends until it closes. */
function exchange(path: string, bytes: string | Buffer, timeoutMs = 10_000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(path);
    let text = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ text, closed: false });
    }, timeoutMs);
    s.on('connect', () => s.write(bytes));
    s.setEncoding('utf8');
    s.on('data', (d: string) => (text += d));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
  });
}

function connectIdle(path: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(path);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

async function statusAnswers(gw: GatewayProcess, config: ConfigDir): Promise<void> {
  expect(gw.child.exitCode).toBeNull();
  const health = await request<{ gateway: string }>(`${config.dir}/control.sock`, { cmd: 'status' });
  expect(health.gateway).toBe(config.gatewayId);
}

describe('malformed requests', () => {
  let config: ConfigDir;
  let gw: GatewayProcess;
  beforeAll(async () => {
    config = writeConfigDir({ brokerUrls: [broker.url], gateway: { control: { requestTimeout: '500ms' } } });
    gw = GatewayProcess.start(config.dir);
    await gw.ready();
  }, 30_000);
  afterAll(async () => {
    await gw?.stop();
  });

  it.each(['null', '[]', '42', '"x"', 'true', '{}', '{"cmd":7}'])('answers %s with what a request must look like and keeps running', async (line) => {
    const { text, closed } = await exchange(`${config.dir}/control.sock`, `${line}\n`);
    expect(closed).toBe(true);
    const answer = JSON.parse(text) as { type: string; code: string; message: string };
    expect(answer).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
    expect(answer.message).toContain('a request is one JSON object per line');
    expect(answer.message).toContain('{"cmd":"status"}');
    await statusAnswers(gw, config);
  });

  it('names an unknown command and lists the known ones', async () => {
    const { text } = await exchange(`${config.dir}/control.sock`, '{"cmd":"shutdown"}\n');
    const answer = JSON.parse(text) as { code: string; message: string };
    expect(answer.code).toBe('UNKNOWN_COMMAND');
    expect(answer.message).toMatch(/unknown command "shutdown".*\{"cmd":"reload"\}/);
  });

  it('cuts off a half-sent line after the request timeout, with a reason', async () => {
    const t0 = Date.now();
    const { text, closed } = await exchange(`${config.dir}/control.sock`, '{"cmd":"sta');
    expect(closed).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
    expect(JSON.parse(text)).toMatchObject({ type: 'error', code: 'REQUEST_TIMEOUT' });
    await statusAnswers(gw, config);
  });

  it('refuses a line longer than the limit and closes even if the client keeps sending', async () => {
    const { text, closed } = await exchange(`${config.dir}/control.sock`, Buffer.alloc(MAX_REQUEST_BYTES * 64, 'a'));
    expect(closed).toBe(true);
    const answer = JSON.parse(text) as { code: string; message: string };
    expect(answer.code).toBe('BAD_REQUEST');
    expect(answer.message).toContain(`limit ${MAX_REQUEST_BYTES} bytes`);
    await statusAnswers(gw, config);
  });

  it('refuses a 60 KB line that arrives whole with its newline, without serving it', async () => {
    const line = JSON.stringify({ cmd: 'status', pad: 'a'.repeat(60_000) });
    const { text, closed } = await exchange(`${config.dir}/control.sock`, `${line}\n`);
    expect(closed).toBe(true);
    const answer = JSON.parse(text) as { type: string; code: string; message: string };
    expect(answer).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
    expect(answer.message).toContain(`limit ${MAX_REQUEST_BYTES} bytes`);
    await statusAnswers(gw, config);
  });

  it('cuts off a client that trickles bytes at the deadline counted from its first byte', async () => {
    const s = await connectIdle(`${config.dir}/control.sock`);
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (text += d));
    s.on('error', () => undefined);
    const closed = new Promise<number>((r) => s.on('close', () => r(Date.now())));
    const t0 = Date.now();
    // One byte every 100 ms: an idle timer of 500 ms never fires.
    const drip = setInterval(() => s.writable && s.write(' '), 100);
    try {
      const at = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), 4000))]);
      expect(at, 'still open 4 s after the first byte').not.toBe(-1);
      expect(at - t0).toBeGreaterThanOrEqual(400);
      expect(JSON.parse(text)).toMatchObject({ type: 'error', code: 'REQUEST_TIMEOUT' });
    } finally {
      clearInterval(drip);
      s.destroy();
    }
    await statusAnswers(gw, config);
  });
});

/** A client of the ops group that connects and sends one byte every `everyMs`, never a newline. */
function slowClient(path: string, everyMs: number): Promise<{ socket: net.Socket; stop(): void }> {
  return connectIdle(path).then((socket) => {
    socket.on('error', () => undefined);
    socket.on('data', () => undefined);
    const drip = setInterval(() => socket.writable && socket.write('{'), everyMs);
    return { socket, stop: () => (clearInterval(drip), socket.destroy()) };
  });
}

describe('slow clients', () => {
  it('status answers while 32 slow clients hold every slot (the default limit)', async () => {
    const config = writeConfigDir({ brokerUrls: [broker.url], gateway: { control: { requestTimeout: '60s' } } });
    const gw = GatewayProcess.start(config.dir);
    const slow: { socket: net.Socket; stop(): void }[] = [];
    try {
      await gw.ready();
      for (let i = 0; i < 32; i++) slow.push(await slowClient(`${config.dir}/control.sock`, 300));
      await new Promise((r) => setTimeout(r, 600));
      await statusAnswers(gw, config);
      // Room was made by closing the oldest one; the rest still hold their slots.
      expect(slow[0]!.socket.destroyed || slow[0]!.socket.readableEnded).toBe(true);
      expect(slow.slice(1).filter((c) => !c.socket.destroyed).length).toBeGreaterThan(25);
      await statusAnswers(gw, config);
      expect(gw.logs.some((l) => l.msg.includes('closing the oldest connection that has sent no complete request'))).toBe(true);
    } finally {
      for (const c of slow) c.stop();
      await gw.stop();
    }
  }, 40_000);
});

describe('connection limits', () => {
  it('refuses connections over control.maxConnections when every slot is serving (tail), then serves again', async () => {
    const config = writeConfigDir({ brokerUrls: [broker.url], gateway: { control: { maxConnections: 4, requestTimeout: '60s' } } });
    const gw = GatewayProcess.start(config.dir);
    try {
      await gw.ready();
      const idle = await Promise.all([1, 2, 3, 4].map(() => connectIdle(`${config.dir}/control.sock`)));
      for (const s of idle) s.write('{"cmd":"tail"}\n');
      await new Promise((r) => setTimeout(r, 200));
      const { text, closed } = await exchange(`${config.dir}/control.sock`, '{"cmd":"status"}\n');
      expect(closed).toBe(true);
      const answer = JSON.parse(text) as { code: string; message: string };
      expect(answer.code).toBe('TOO_MANY_CONNECTIONS');
      expect(answer.message).toContain('4 control connections (the limit)');
      for (const s of idle) s.destroy();
      await new Promise((r) => setTimeout(r, 200));
      await statusAnswers(gw, config);
      expect(gw.logs.some((l) => l.msg.includes('too many connections'))).toBe(true);
    } finally {
      await gw.stop();
    }
  }, 40_000);

  it('survives running out of file descriptors (prlimit) with idle connections piling up', async () => {
    const config = writeConfigDir({ brokerUrls: [broker.url], gateway: { control: { maxConnections: 1024, requestTimeout: '60s' }, health: { interval: '200ms' } } });
    const gw = GatewayProcess.start(config.dir);
    const idle: net.Socket[] = [];
    try {
      await gw.ready();
      const fdsInUse = readdirSync(`/proc/${gw.pid}/fd`).length;
      const limit = fdsInUse + 20;
      execFileSync('prlimit', ['--pid', String(gw.pid), `--nofile=${limit}:${limit}`]);
      // Far more connections than descriptors: accept() fails with EMFILE, /proc reads fail too.
      for (let i = 0; i < limit + 60; i++) {
        try {
          idle.push(await connectIdle(`${config.dir}/control.sock`));
        } catch {
          // The kernel's backlog is full; what matters is the daemon, not this client.
        }
      }
      // Several health ticks while the process has no descriptor left.
      await new Promise((r) => setTimeout(r, 1500));
      expect(gw.child.exitCode).toBeNull();
      expect(gw.child.signalCode).toBeNull();
      for (const s of idle) s.destroy();
      await new Promise((r) => setTimeout(r, 500));
      await statusAnswers(gw, config);
      expect(gw.logs.filter((l) => l.level >= 60)).toEqual([]);
    } finally {
      for (const s of idle) s.destroy();
      await gw.stop();
    }
  }, 60_000);
});
