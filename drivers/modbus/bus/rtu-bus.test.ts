import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startRtuRig, type RtuRig } from '../../../test-rigs/modbus-rtu-sim/rig.js';
import { serialPortSchema } from '../../transport/serial/schema.js';
import { ModbusError } from '../errors.js';
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
  bus.read({ unitId, table: 'holding', address: 0, count: 2 }, timeoutMs, signal);

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
