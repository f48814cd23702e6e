import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import modbusSerial from 'modbus-serial';
import { encodeMbap, MbapDecoder, MbapFramingError } from './mbap.js';
import { startModbusTcpSimulator, type ModbusTcpSimulator } from './server.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

// modbus-serial, not the gateway's own codec, checks the simulator: two independent implementations.
// (CommonJS with an ES-style .d.ts: under NodeNext the default import is the module namespace.)
const ModbusRTU = modbusSerial.default;
type ModbusClient = InstanceType<typeof ModbusRTU>;

async function sim(opts: Parameters<typeof startModbusTcpSimulator>[0]): Promise<ModbusTcpSimulator> {
  const s = await startModbusTcpSimulator(opts);
  cleanups.push(() => s.stop());
  return s;
}

async function client(s: ModbusTcpSimulator, unit = 1, timeoutMs = 1000): Promise<ModbusClient> {
  const c = new ModbusRTU();
  c.on('error', () => undefined);
  await c.connectTCP(s.host, { port: s.port });
  c.setID(unit);
  c.setTimeout(timeoutMs);
  cleanups.push(() => new Promise<void>((r) => c.destroy(() => r())));
  return c;
}

/** Raw socket that collects whole MBAP frames, for framing tests modbus-serial cannot express. */
async function rawSocket(s: ModbusTcpSimulator) {
  const socket = net.connect(s.port, s.host);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  cleanups.push(() => void socket.destroy());
  const decoder = new MbapDecoder();
  const frames: ReturnType<MbapDecoder['push']> = [];
  socket.on('data', (c: Buffer) => frames.push(...decoder.push(c)));
  const waitFrames = async (n: number, ms = 2000) => {
    const deadline = Date.now() + ms;
    while (frames.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    return frames;
  };
  return { socket, frames, waitFrames };
}

const readHolding = (tid: number, unit: number, address: number, count: number) =>
  encodeMbap(tid, unit, Buffer.from([3, address >> 8, address & 0xff, count >> 8, count & 0xff]));

describe('MbapDecoder', () => {
  it('reassembles a frame delivered one byte at a time and splits merged frames', () => {
    const a = readHolding(1, 1, 0, 2);
    const b = readHolding(2, 7, 10, 1);
    const d = new MbapDecoder();
    const got = [];
    for (const byte of Buffer.concat([a, b, a])) got.push(...d.push(Buffer.from([byte])));
    expect(got.map((f) => [f.transactionId, f.unitId, f.pdu.toString('hex')])).toEqual([
      [1, 1, '0300000002'],
      [2, 7, '03000a0001'],
      [1, 1, '0300000002'],
    ]);
    expect(new MbapDecoder().push(Buffer.concat([a, b])).length).toBe(2);
  });

  it('rejects a header that is not Modbus TCP', () => {
    expect(() => new MbapDecoder().push(Buffer.from('GET / HTTP/1.1\r\n'))).toThrow(MbapFramingError);
  });
});

describe('modbus TCP simulator', () => {
  it('answers FC1-4 and FC5/6/15/16 through a real modbus-serial client', async () => {
    const s = await sim({ units: [1], clock: 'manual' });
    s.unit(1).setRegisters('holding', 0, [1, 2, 3]);
    s.unit(1).setRegisters('input', 5, [0xbeef]);
    s.unit(1).setBits('coil', 0, [true, false, true]);
    s.unit(1).setBits('discrete', 9, [true]);
    const c = await client(s);
    expect((await c.readHoldingRegisters(0, 3)).data).toEqual([1, 2, 3]);
    expect((await c.readInputRegisters(5, 1)).data).toEqual([0xbeef]);
    expect((await c.readCoils(0, 3)).data.slice(0, 3)).toEqual([true, false, true]);
    expect((await c.readDiscreteInputs(8, 2)).data.slice(0, 2)).toEqual([false, true]);
    await c.writeRegister(20, 0x1234);
    await c.writeRegisters(21, [5, 6]);
    await c.writeCoil(100, true);
    await c.writeCoils(101, [false, true, true]);
    expect((await c.readHoldingRegisters(20, 3)).data).toEqual([0x1234, 5, 6]);
    expect((await c.readCoils(100, 4)).data.slice(0, 4)).toEqual([true, false, true, true]);
  });

  it('answers exceptions like a device: 2 past the map, 3 bad quantity, 1 unknown function, 11 unknown unit', async () => {
    const s = await sim({ units: { 1: { size: { holding: 10 } } }, clock: 'manual' });
    const c = await client(s);
    await expect(c.readHoldingRegisters(9, 2)).rejects.toMatchObject({ modbusCode: 2 });
    await expect(c.readHoldingRegisters(0, 126)).rejects.toMatchObject({ modbusCode: 3 });
    const raw = await rawSocket(s);
    raw.socket.write(encodeMbap(9, 1, Buffer.from([0x2b, 0x0e, 0x01, 0x00])));
    raw.socket.write(readHolding(10, 42, 0, 1));
    const frames = await raw.waitFrames(2);
    expect(frames.map((f) => [f.transactionId, f.pdu.toString('hex')])).toEqual([
      [9, 'ab01'],
      [10, '830b'],
    ]);
  });

  it('handles requests split across segments and pipelined in one segment', async () => {
    const s = await sim({ units: [1, 2], clock: 'manual' });
    s.unit(1).setRegisters('holding', 0, [11]);
    s.unit(2).setRegisters('holding', 0, [22]);
    const raw = await rawSocket(s);
    const req = readHolding(1, 1, 0, 1);
    for (const byte of req) {
      raw.socket.write(Buffer.from([byte]));
      await new Promise((r) => setTimeout(r, 2));
    }
    raw.socket.write(Buffer.concat([readHolding(2, 2, 0, 1), readHolding(3, 1, 0, 1)]));
    const frames = await raw.waitFrames(3);
    expect(frames.map((f) => [f.transactionId, f.unitId, f.pdu.readUInt16BE(2)])).toEqual([
      [1, 1, 11],
      [2, 2, 22],
      [3, 1, 11],
    ]);
  });

  it('steps dynamic registers deterministically on a manual clock', async () => {
    const s = await sim({
      units: {
        1: {
          dynamics: [
            { table: 'holding', address: 0, kind: 'counter', start: 65534 },
            { table: 'input', address: 0, kind: 'sine', periodSteps: 4, amplitude: 100 },
          ],
        },
      },
      clock: 'manual',
    });
    const c = await client(s);
    const seen = [];
    for (let i = 0; i < 4; i++) {
      seen.push([(await c.readHoldingRegisters(0, 1)).data[0], (await c.readInputRegisters(0, 1)).data[0]]);
      s.step();
    }
    expect(seen).toEqual([
      [65534, 0],
      [65535, 100],
      [0, 0],
      [1, 65536 - 100],
    ]);
  });

  it('injects faults per unit: exception, slow, silence; and restores', async () => {
    const s = await sim({ units: [1, 2], clock: 'manual' });
    const c1 = await client(s, 1, 300);
    const c2 = await client(s, 2, 300);
    s.setFault(1, { kind: 'exception', code: 6 });
    await expect(c1.readHoldingRegisters(0, 1)).rejects.toMatchObject({ modbusCode: 6 });
    expect((await c2.readHoldingRegisters(0, 1)).data).toEqual([0]);

    s.setFault(1, { kind: 'slow', ms: 100 });
    const t0 = Date.now();
    await c1.readHoldingRegisters(0, 1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);

    s.setFault(1, { kind: 'silence' });
    await expect(c1.readHoldingRegisters(0, 1)).rejects.toMatchObject({ errno: 'ETIMEDOUT' });
    s.clearFault(1);
    expect((await c1.readHoldingRegisters(0, 1)).data).toEqual([0]);
  });

  it('drops connections, refuses, and restores on the same port', async () => {
    const s = await sim({ units: [1], clock: 'manual' });
    const c = await client(s);
    await c.readHoldingRegisters(0, 1);
    s.dropConnections();
    await new Promise((r) => setTimeout(r, 50));
    expect(s.stats.openConnections).toBe(0);
    expect(c.isOpen).toBe(false);

    await s.refuse();
    const refused = new ModbusRTU();
    await expect(refused.connectTCP(s.host, { port: s.port })).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    await s.restore();
    const again = await client(s);
    expect((await again.readHoldingRegisters(0, 1)).data).toEqual([0]);
  });

  it('throughput self-check: 2000 sequential requests complete', async () => {
    const s = await sim({ units: [1], clock: 'manual' });
    const c = await client(s);
    const t0 = performance.now();
    for (let i = 0; i < 2000; i++) await c.readHoldingRegisters(i % 100, 10);
    const ms = performance.now() - t0;
    expect(s.stats.requests).toBe(2000);
    console.log(`modbus-sim: 2000 sequential modbus-serial requests in ${ms.toFixed(0)} ms (${((2000 / ms) * 1000).toFixed(0)} req/s)`);
  });
});
