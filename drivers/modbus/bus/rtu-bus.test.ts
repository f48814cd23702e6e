import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startRtuRig, type RtuRig } from '../../../test-rigs/modbus-rtu-sim/rig.js';
import { serialPortSchema } from '../../transport/serial/schema.js';
import { ModbusError } from '../errors.js';
import { blockOf } from '../pdu/response.js';
import { RtuBus } from './rtu-bus.js';

/** The bus scheduler alone, against the simulator on a real pty. */

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(units: number[]): Promise<{ rig: RtuRig; bus: RtuBus }> {
  const rig = await startRtuRig({ units });
  cleanups.push(() => rig.close());
  units.forEach((id) => rig.sim.unit(id).setRegisters('holding', 0, [id * 100, id * 100 + 1]));
  const bus = new RtuBus({ port: serialPortSchema.parse({ path: rig.path, baudRate: 115200 }), log: pino({ level: 'silent' }) });
  cleanups.push(() => bus.stop());
  await bus.start();
  expect(bus.isOpen).toBe(true);
  return { rig, bus };
}

const read = (bus: RtuBus, unitId: number, signal = new AbortController().signal, timeoutMs = 200) =>
  bus.read({ unitId, table: 'holding', address: 0, count: 2 }, timeoutMs, signal).then((data) => blockOf('holding', 2, data));
const never = new AbortController().signal;

describe('rtu bus scheduler', () => {
  it('serves waiting units round-robin: a unit with many queued requests cannot go ahead of the others', async () => {
    const { rig, bus } = await setup([1, 2, 3]);
    const results = await Promise.all([read(bus, 1), read(bus, 1), read(bus, 1), read(bus, 1), read(bus, 2), read(bus, 3)]);
    expect(results.map((r) => r[0])).toEqual([100, 100, 100, 100, 200, 300]);
    // The first request for unit 1 went out at once; then every unit with work gets a turn in order.
    expect(rig.sim.stats.requestLog).toEqual([1, 1, 2, 3, 1, 1]);
  });

  it('a reply arriving after its timeout is counted as stray bytes, not taken as the next unit\'s reply', async () => {
    const { rig, bus } = await setup([1, 2]);
    rig.sim.setFault(2, { kind: 'slow', ms: 250 });
    await expect(read(bus, 2, undefined, 100)).rejects.toMatchObject({ code: 'ETIMEDOUT', kind: 'timeout' });
    await new Promise((r) => setTimeout(r, 400));
    expect(bus.counters.strayBytes).toBe(9);
    expect(await read(bus, 1)).toEqual([100, 101]);
  });

  it('an aborted request is answered ECANCELED at once; the bus carries on with the rest', async () => {
    const { rig, bus } = await setup([1, 2]);
    rig.sim.setFault(1, { kind: 'silence' });
    const ac = new AbortController();
    const silent = read(bus, 1, ac.signal, 5_000);
    const queued = read(bus, 2);
    const t0 = Date.now();
    ac.abort();
    await expect(silent).rejects.toMatchObject({ code: 'ECANCELED' });
    expect(Date.now() - t0).toBeLessThan(1_000);
    // The silent transaction still owns the wire until its timeout: its late reply cannot be confused.
    expect(await queued).toEqual([200, 201]);
  });

  it('requests fail at once with the port error while the port is gone, and the bus stops cleanly', async () => {
    const { rig, bus } = await setup([1]);
    await rig.unplug();
    const deadline = Date.now() + 10_000;
    while (bus.isOpen && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const err = (await read(bus, 1).catch((e: unknown) => e)) as ModbusError;
    expect(err).toBeInstanceOf(ModbusError);
    expect(err.kind).toBe('connection');
    expect(err.code).toMatch(/^SERIAL_(UNPLUGGED|NOT_FOUND)$/);
    await bus.stop();
    await expect(read(bus, 1)).rejects.toMatchObject({ code: 'ECANCELED' });
  });
});

describe('rtu bus writes (FC 5, 6, 15, 16)', () => {
  it('writes coils and registers: the unit holds exactly the hand-written words and bits, and they read back', async () => {
    const { rig, bus } = await setup([4]);
    await bus.write(4, { op: 'write-register', address: 7, value: 0xbeef }, 200, never);
    await bus.write(4, { op: 'write-registers', address: 20, values: [0x1234, 0xabcd, 0x0001] }, 200, never);
    await bus.write(4, { op: 'write-coil', address: 1, value: true }, 200, never);
    await bus.write(4, { op: 'write-coils', address: 3, values: [true, false, true, true, false, false, false, false, true] }, 200, never);
    const u = rig.sim.unit(4);
    expect(u.holding[7]).toBe(0xbeef);
    expect([...u.holding.subarray(19, 24)]).toEqual([0, 0x1234, 0xabcd, 0x0001, 0]);
    expect([...u.coil.subarray(0, 13)]).toEqual([0, 1, 0, 1, 0, 1, 1, 0, 0, 0, 0, 1, 0]);
    expect([...(await bus.read({ unitId: 4, table: 'holding', address: 20, count: 3 }, 200, never))]).toEqual([0x12, 0x34, 0xab, 0xcd, 0x00, 0x01]);
    expect([...(await bus.read({ unitId: 4, table: 'coil', address: 3, count: 9 }, 200, never))]).toEqual([0b0000_1101, 0b1]);
    expect(rig.sim.stats.functionLog).toEqual([6, 16, 5, 15, 3, 1]);
  });

  it('a refused write is the unit\'s exception; a write outside the spec never reaches the wire', async () => {
    const { rig, bus } = await setup([4]);
    rig.sim.setFault(4, { kind: 'exception', code: 4 });
    await expect(bus.write(4, { op: 'write-coil', address: 0, value: true }, 200, never)).rejects.toMatchObject({ code: 'MODBUS_EXCEPTION_4', kind: 'exception' });
    rig.sim.clearFault(4);
    await expect(bus.write(4, { op: 'write-registers', address: 0, values: [] }, 200, never)).rejects.toMatchObject({ code: 'EBADREQUEST' });
    expect(rig.sim.stats.functionLog).toEqual([5]);
  });

  it('a write goes in the next turn, ahead of every queued read, and one transaction at a time', async () => {
    const { rig, bus } = await setup([1, 2, 3]);
    // The first read is on the wire (a slow reply) when the rest and the write are asked for.
    rig.sim.setFault(1, { kind: 'slow', ms: 80 });
    const settled: string[] = [];
    const track = <T>(name: string, p: Promise<T>) => p.then((v) => (settled.push(name), v));
    const reads = [track('1a', read(bus, 1)), track('1b', read(bus, 1)), track('2', read(bus, 2)), track('1c', read(bus, 1))];
    const write = track('write', bus.write(3, { op: 'write-registers', address: 50, values: [0xcafe, 0x0bad] }, 200, never));
    await Promise.all([...reads, write]);
    expect(rig.sim.stats.requestLog).toEqual([1, 3, 1, 2, 1]);
    expect(rig.sim.stats.functionLog).toEqual([3, 16, 3, 3, 3]);
    // The write waited for the slow reply on the wire, not the other way round.
    expect(settled.slice(0, 2)).toEqual(['1a', 'write']);
    expect([...rig.sim.unit(3).holding.subarray(50, 52)]).toEqual([0xcafe, 0x0bad]);
  });
});
