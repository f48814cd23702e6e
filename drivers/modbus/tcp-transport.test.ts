import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { recordingContext, waitFor } from '../../test-rigs/driver-contract.js';
import { startModbusTcpSimulator, type ModbusTcpSimulator } from '../../test-rigs/modbus-sim/server.js';
import { expandPacked, type PackedReadings } from '../../gateway/model/packed-readings.js';
import type { ModbusError } from './errors.js';
import type { ReadPlan } from './plan.js';
import { readPlan } from './poll.js';
import { modbusTcpDeviceSchema } from './schema.js';
import { createModbusTcpDriver } from './tcp-driver.js';
import { MbapTransport } from './tcp-transport.js';

/** The MBAP transport against the real simulator and against hand-written misbehaving servers, over real sockets. */

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function sim(): Promise<ModbusTcpSimulator> {
  const s = await startModbusTcpSimulator({ units: [1], clock: 'manual' });
  cleanups.push(() => s.stop());
  return s;
}

async function connect(host: string, port: number): Promise<MbapTransport> {
  const t = await MbapTransport.connect(host, port, 1000, new AbortController().signal);
  cleanups.push(() => t.destroy());
  return t;
}

/**
 * A server that answers each request frame with whatever `reply` makes of it (null: nothing).
 * Requests are 12 bytes (MBAP + FC + address + count).
 */
async function rawServer(reply: (req: Buffer, n: number) => Buffer | null): Promise<{ host: string; port: number; connections: () => number }> {
  let n = 0;
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 12) {
        const out = reply(buf.subarray(0, 12), n++);
        buf = buf.subarray(12);
        if (out && !socket.destroyed) socket.write(out);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return { host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, connections: () => connections };
}

/** A well-formed FC3 answer to `req` carrying `words`, with the transaction id given (default: the request's). */
function answer(req: Buffer, words: number[], tid = req.readUInt16BE(0)): Buffer {
  const out = Buffer.alloc(9 + words.length * 2);
  out.writeUInt16BE(tid, 0);
  out.writeUInt16BE(0, 2);
  out.writeUInt16BE(3 + words.length * 2, 4);
  out[6] = req[6]!;
  out[7] = req[7]!;
  out[8] = words.length * 2;
  words.forEach((w, i) => out.writeUInt16BE(w, 9 + i * 2));
  return out;
}

const rejection = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as ModbusError);

describe('MbapTransport', () => {
  it('reads registers and bits from the simulator as the answer bytes', async () => {
    const s = await sim();
    s.unit(1).setRegisters('holding', 0, [1, 0xbeef, 65535]);
    s.unit(1).setRegisters('input', 7, [42]);
    s.unit(1).setBits('coil', 0, [true, false, true, true, false, false, false, false, true]);
    const t = await connect(s.host, s.port);
    expect([...(await t.read(1, 'holding', 0, 3, 500))]).toEqual([0, 1, 0xbe, 0xef, 0xff, 0xff]);
    expect((await t.read(1, 'input', 7, 1, 500)).readUInt16BE(0)).toBe(42);
    expect([...(await t.read(1, 'coil', 0, 9, 500))]).toEqual([0b00001101, 0b1]);
  });

  it('pipelines: several requests outstanding are matched to their answers by transaction id', async () => {
    const s = await sim();
    s.unit(1).setRegisters('holding', 0, Array.from({ length: 50 }, (_, i) => i * 3));
    const t = await connect(s.host, s.port);
    const reads = Array.from({ length: 10 }, (_, k) => t.read(1, 'holding', k * 5, 5, 500));
    const got = await Promise.all(reads);
    got.forEach((b, k) => expect(b.readUInt16BE(0)).toBe(k * 5 * 3));
  });

  it('a Modbus exception fails only its request and keeps the connection', async () => {
    const s = await sim();
    const t = await connect(s.host, s.port);
    s.setFault(1, { kind: 'exception', code: 2 });
    const e = await rejection(t.read(1, 'holding', 0, 1, 500));
    expect(e).toMatchObject({ code: 'MODBUS_EXCEPTION_2', kind: 'exception' });
    s.clearFault(1);
    expect((await t.read(1, 'holding', 0, 1, 500)).length).toBe(2);
    expect(t.lost).toBe(false);
  });

  it('an unknown unit behind a gateway is exception 11; silence is ETIMEDOUT', async () => {
    const s = await sim();
    const t = await connect(s.host, s.port);
    expect(await rejection(t.read(9, 'holding', 0, 1, 500))).toMatchObject({ code: 'MODBUS_EXCEPTION_11', kind: 'exception' });
    s.setFault(1, { kind: 'silence' });
    expect(await rejection(t.read(1, 'holding', 0, 1, 100))).toMatchObject({ code: 'ETIMEDOUT', kind: 'timeout' });
  });

  it('outstanding requests time out each at its own deadline, never before it, and an answer in time still counts', async () => {
    // Answers only the fourth request: the others are silence.
    const srv = await rawServer((req, n) => (n === 3 ? answer(req, [9]) : null));
    const t = await connect(srv.host, srv.port);
    const started = performance.now();
    const done: Array<{ name: string; at: number; code: string }> = [];
    const track = (name: string, p: Promise<unknown>) =>
      p.then(
        () => done.push({ name, at: performance.now() - started, code: 'ok' }),
        (e: ModbusError) => done.push({ name, at: performance.now() - started, code: e.code }),
      );
    await Promise.all([
      track('300', t.read(1, 'holding', 0, 1, 300)),
      track('100', t.read(1, 'holding', 0, 1, 100)),
      track('200', t.read(1, 'holding', 0, 1, 200)),
      (async () => {
        await new Promise((r) => setTimeout(r, 150));
        await track('answered', t.read(1, 'holding', 0, 1, 1000));
      })(),
    ]);
    expect(done.map((d) => [d.name, d.code])).toEqual([
      ['100', 'ETIMEDOUT'],
      ['answered', 'ok'],
      ['200', 'ETIMEDOUT'],
      ['300', 'ETIMEDOUT'],
    ]);
    for (const d of done.filter((x) => x.code === 'ETIMEDOUT')) expect(d.at).toBeGreaterThanOrEqual(Number(d.name) - 1);
    expect(t.lost).toBe(false);
  });

  it('a short answer (fewer data bytes than asked) is EBADRESPONSE for that request only; the next request works', async () => {
    const srv = await rawServer((req, n) => (n === 0 ? answer(req, [7]) : answer(req, [1, 2])));
    const t = await connect(srv.host, srv.port);
    expect(await rejection(t.read(1, 'holding', 0, 2, 500))).toMatchObject({ code: 'EBADRESPONSE', kind: 'response' });
    expect([...(await t.read(1, 'holding', 0, 2, 500))]).toEqual([0, 1, 0, 2]);
    expect(t.lost).toBe(false);
  });

  it('garbage where an MBAP header should be drops the connection with EBADFRAME (kind connection)', async () => {
    const srv = await rawServer(() => Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'));
    const t = await connect(srv.host, srv.port);
    const lost: ModbusError[] = [];
    t.onLost((e) => lost.push(e));
    expect(await rejection(t.read(1, 'holding', 0, 1, 500))).toMatchObject({ code: 'EBADFRAME', kind: 'connection' });
    expect(t.lost).toBe(true);
    expect(lost[0]?.code).toBe('EBADFRAME');
    // A dead transport fails further reads at once instead of waiting out a timeout.
    expect(await rejection(t.read(1, 'holding', 0, 1, 5000))).toMatchObject({ kind: 'connection' });
  });

  it('an answer with a transaction id nobody asked for is dropped and counted; its request times out', async () => {
    const srv = await rawServer((req) => answer(req, [5], (req.readUInt16BE(0) + 100) & 0xffff));
    const t = await connect(srv.host, srv.port);
    expect(await rejection(t.read(1, 'holding', 0, 1, 150))).toMatchObject({ code: 'ETIMEDOUT', kind: 'timeout' });
    expect(t.strayFrames).toBe(1);
  });

  it('driver: stray answers are counted in status, the request is a timeout, and the driver reconnects', async () => {
    const srv = await rawServer((req) => answer(req, [5], (req.readUInt16BE(0) + 100) & 0xffff));
    const rec = recordingContext('stray');
    const config = modbusTcpDeviceSchema.parse({ id: 'stray', type: 'modbus-tcp', host: srv.host, port: srv.port, intervalMs: 20, timeoutMs: 50, registers: [{ name: 'r0', address: 0, type: 'uint16' }] });
    const d = createModbusTcpDriver(config, rec.ctx);
    cleanups.push(() => d.stop());
    await d.start();
    await waitFor('a reconnect after the timeout', () => srv.connections() >= 2);
    const st = d.status();
    expect(st.lastError?.code).toBe('ETIMEDOUT');
    expect(st.counters.timeouts).toBeGreaterThan(0);
    expect(st.detail?.strayFrames).toBeGreaterThan(0);
  });

  it('an answer split across TCP segments, and two answers in one segment, are framed correctly', async () => {
    let pendingFirst: Buffer | null = null;
    const srv = await rawServer((req, n) => {
      const a = answer(req, [n + 10]);
      if (n % 2 === 0) {
        pendingFirst = a;
        return a.subarray(0, 5); // half a header now, the rest with the next answer
      }
      const out = Buffer.concat([pendingFirst!.subarray(5), a]);
      pendingFirst = null;
      return out;
    });
    const t = await connect(srv.host, srv.port);
    const [a, b] = await Promise.all([t.read(1, 'holding', 0, 1, 500), t.read(1, 'holding', 1, 1, 500)]);
    expect([a.readUInt16BE(0), b.readUInt16BE(0)]).toEqual([10, 11]);
  });

  it('the driver survives a device that sends garbage: it reports EBADFRAME, reconnects, and stops cleanly', async () => {
    const srv = await rawServer(() => Buffer.from([0xde, 0xad, 0xbe, 0xef, 0xff, 0xff, 0xff, 0xff]));
    const rec = recordingContext('garbage-plc');
    const config = modbusTcpDeviceSchema.parse({ id: 'garbage-plc', type: 'modbus-tcp', host: srv.host, port: srv.port, intervalMs: 20, timeoutMs: 200, registers: [{ name: 'r0', address: 0, type: 'uint16' }] });
    const d = createModbusTcpDriver(config, rec.ctx);
    cleanups.push(() => d.stop());
    await d.start();
    await waitFor('two connections to the garbage server', () => srv.connections() >= 2);
    const st = d.status();
    expect(st.state).toBe('down');
    expect(st.lastError?.code).toBe('EBADFRAME');
    expect(st.counters.connectionErrors).toBeGreaterThan(0);
    expect(rec.readings().filter((r) => r.point === 'r0')).toEqual([expect.objectContaining({ quality: 'bad', attrs: { error: 'EBADFRAME' } })]);
    await d.stop();
    expect(d.status().state).toBe('stopped');
  });

  it('driver: pipelined polls (maxOutstandingRequests 4) read every request right', async () => {
    const s = await startModbusTcpSimulator({ units: [1], clock: 'manual' });
    cleanups.push(() => s.stop());
    s.unit(1).setRegisters('holding', 0, Array.from({ length: 40 }, (_, i) => 1000 + i));
    const rec = recordingContext('pipelined');
    const config = modbusTcpDeviceSchema.parse({
      id: 'pipelined', type: 'modbus-tcp', host: s.host, port: s.port, intervalMs: 20, timeoutMs: 500,
      maxRegistersPerRequest: 4, maxOutstandingRequests: 4,
      registers: Array.from({ length: 40 }, (_, i) => ({ name: `r${i}`, address: i, type: 'uint16' })),
    });
    const d = createModbusTcpDriver(config, rec.ctx);
    cleanups.push(() => d.stop());
    await d.start();
    const batch = await waitFor('one full poll', () => rec.batches.find((b) => b.length === 40));
    expect(batch.map((r) => r.value)).toEqual(Array.from({ length: 40 }, (_, i) => 1000 + i));
    expect(d.status().detail?.requestsPerPoll).toBe(10);
  });

  it('driver: with emitPacked, good polls arrive packed; an outage is one bad reading per point, then packed good values again', async () => {
    const s = await startModbusTcpSimulator({ units: [1], clock: 'manual' });
    cleanups.push(() => s.stop());
    s.unit(1).setRegisters('holding', 0, [7, 8]);
    const rec = recordingContext('packed');
    const packed: PackedReadings[] = [];
    const config = modbusTcpDeviceSchema.parse({
      id: 'packed', type: 'modbus-tcp', host: s.host, port: s.port, intervalMs: 20, timeoutMs: 100,
      registers: [{ name: 'a', address: 0, type: 'uint16', unit: 'V' }, { name: 'b', address: 1, type: 'int16' }],
    });
    const d = createModbusTcpDriver(config, { ...rec.ctx, emitPacked: (p) => void packed.push(...p) });
    cleanups.push(() => d.stop());
    await d.start();
    // Point values only: state events (drivers/kit/device-state-log.ts) come through plain emit too.
    const values = () => rec.readings().filter((r) => !(r.point === 'state' && r.kind === 'event'));
    await waitFor('a packed poll', () => packed.length > 0);
    expect(expandPacked(packed[0]!)).toEqual([
      { point: 'a', value: 7, quality: 'good', ts: packed[0]!.ts, unit: 'V' },
      { point: 'b', value: 8, quality: 'good', ts: packed[0]!.ts },
    ]);
    expect(values()).toEqual([]);
    s.setFault(1, { kind: 'exception', code: 4 });
    await waitFor('bad readings', () => values().length >= 2);
    const before = packed.length;
    s.clearFault(1);
    await waitFor('packed again', () => packed.length > before);
    s.setFault(1, { kind: 'exception', code: 4 });
    await waitFor('a second outage reported again', () => values().length >= 4);
    expect(values().map((r) => [r.point, r.quality, r.attrs?.error])).toEqual([
      ['a', 'bad', 'MODBUS_EXCEPTION_4'], ['b', 'bad', 'MODBUS_EXCEPTION_4'],
      ['a', 'bad', 'MODBUS_EXCEPTION_4'], ['b', 'bad', 'MODBUS_EXCEPTION_4'],
    ]);
    // The state left ok with each outage and came back: sent as state events, apart from the values.
    const states = rec.readings().filter((r) => r.point === 'state').map((r) => r.value);
    expect(states[0]).toBe('ok');
    expect(states.filter((v) => v !== 'ok').length).toBeGreaterThanOrEqual(1);
  });
});

describe('MbapTransport writes (FC 5, 6, 15, 16)', () => {
  it('writes coils and registers: the simulator holds exactly the hand-written words and bits, and they read back', async () => {
    const s = await sim();
    const t = await connect(s.host, s.port);
    await t.write(1, { op: 'write-register', address: 7, value: 0xbeef }, 500);
    await t.write(1, { op: 'write-registers', address: 20, values: [0x1234, 0xabcd, 0x0001] }, 500);
    await t.write(1, { op: 'write-coil', address: 1, value: true }, 500);
    await t.write(1, { op: 'write-coils', address: 3, values: [true, false, true, true, false, false, false, false, true] }, 500);
    const u = s.unit(1);
    expect(u.holding[7]).toBe(0xbeef);
    expect([...u.holding.subarray(19, 24)]).toEqual([0, 0x1234, 0xabcd, 0x0001, 0]);
    expect([...u.coil.subarray(0, 13)]).toEqual([0, 1, 0, 1, 0, 1, 1, 0, 0, 0, 0, 1, 0]);
    expect([...(await t.read(1, 'holding', 20, 3, 500))]).toEqual([0x12, 0x34, 0xab, 0xcd, 0x00, 0x01]);
    expect([...(await t.read(1, 'coil', 3, 9, 500))]).toEqual([0b0000_1101, 0b1]);
    await t.write(1, { op: 'write-coil', address: 1, value: false }, 500);
    expect(u.coil[1]).toBe(0);
    expect(s.stats.requestLog.map((r) => r.functionCode)).toEqual([6, 16, 5, 15, 3, 1, 5]);
  });

  it('a write the device refuses is its exception; a write outside the spec never reaches the wire', async () => {
    const s = await startModbusTcpSimulator({ units: { 1: { size: { holding: 5, coil: 5 } } }, clock: 'manual' });
    cleanups.push(() => s.stop());
    const t = await connect(s.host, s.port);
    expect(await rejection(t.write(1, { op: 'write-registers', address: 4, values: [1, 2] }, 500))).toMatchObject({ code: 'MODBUS_EXCEPTION_2', kind: 'exception' });
    expect(await rejection(t.write(1, { op: 'write-coil', address: 9, value: true }, 500))).toMatchObject({ code: 'MODBUS_EXCEPTION_2' });
    expect(s.unit(1).holding[4]).toBe(0);
    const requestsBefore = s.stats.requests;
    expect(await rejection(t.write(1, { op: 'write-register', address: 0, value: 70_000 }, 500))).toMatchObject({ code: 'EBADREQUEST' });
    // The connection still works, and the refused write was never sent.
    await t.write(1, { op: 'write-register', address: 0, value: 42 }, 500);
    expect(s.stats.requests).toBe(requestsBefore + 1);
    expect(s.unit(1).holding[0]).toBe(42);
  });

  it('a wrong echo is a malformed answer: the device may have written something else', async () => {
    // Echoes FC 6 with the value plus one.
    const srv = await rawServer((req) => {
      const out = Buffer.from(req);
      out.writeUInt16BE(req.readUInt16BE(10) + 1, 10);
      return out;
    });
    const t = await connect(srv.host, srv.port);
    const e = await rejection(t.write(1, { op: 'write-register', address: 3, value: 7 }, 500));
    expect(e).toMatchObject({ code: 'EBADRESPONSE', kind: 'response' });
    expect(e!.message).toMatch(/write holding 3 = 7 to unit 1: malformed answer \(echoed value 0x0008, expected 0x0007\)/);
  });

  for (const lanes of [1, 2]) {
    it(`a write takes its turn ahead of the poll's remaining requests, never inside another transaction (${lanes} lane(s))`, async () => {
      const s = await sim();
      // Every answer takes 60 ms, so the write is asked for while the poll's first request(s) are on the wire.
      s.setFault(1, { kind: 'slow', ms: 60 });
      const t = await connect(s.host, s.port);
      const plan: ReadPlan = {
        pointNames: [],
        requests: [0, 10, 20, 30].map((address) => ({ table: 'input' as const, address, count: 1, points: [] })),
      };
      const order: string[] = [];
      const poll = readPlan(plan, (r) => t.read(1, r.table, r.address, r.count, 1000).then((d) => (order.push(`read ${r.address}`), d)), lanes);
      await waitFor('the first request on the wire', () => s.stats.requests >= lanes, 2000);
      await t.write(1, { op: 'write-register', address: 5, value: 1 }, 1000);
      order.push('write');
      const results = await poll;
      expect(results.every((r) => r.error === undefined)).toBe(true);
      // The write went out right after the request(s) already on the wire, before the rest of the poll ...
      const log = s.stats.requestLog;
      expect(log.map((r) => r.functionCode)).toEqual([...new Array<number>(lanes).fill(4), 6, ...new Array<number>(4 - lanes).fill(4)]);
      // ... once their answers were in (nothing pending when it arrived), and nothing went out beside it.
      expect(log[lanes]!.answersPending).toBe(0);
      expect(log[lanes + 1]!.answersPending).toBe(0);
      expect(order.indexOf('write')).toBe(lanes);
    });
  }
});
