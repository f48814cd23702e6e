import { afterEach, describe, expect, it } from 'vitest';
import type { Driver } from '../driver.js';
import { capturingContext, type CapturingContext } from '../../test-rigs/serial/capture-context.js';
import { waitUntil } from '../../test-rigs/serial/wait-until.js';
import { startRtuRig, type RtuRig } from '../../test-rigs/modbus-rtu-sim/rig.js';
import type { RtuUnitFault } from '../../test-rigs/modbus-rtu-sim/bus-sim.js';
import { sharedRtuBuses } from './bus/bus-registry.js';
import { createModbusRtuDriver, type ModbusRtuDriver } from './rtu-driver.js';
import { modbusRtuDeviceSchema } from './schema.js';

/**
 * The RTU driver against the bus simulator over real socat ptys: real serialport, real framing
 * bytes, real unplug. Intervals are short and waits generous: the machine is shared and noisy.
 */

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** id + 0.5 as float32 ABCD, high word (the low word is 0): 1.5 = 0x3fc00000, 2.5 = 0x40200000, ... */
const ID_PLUS_HALF: Record<number, number> = { 1: 0x3fc0, 2: 0x4020, 3: 0x4060, 4: 0x4090 };

async function rig(units: number[]): Promise<RtuRig> {
  const r = await startRtuRig({ units });
  cleanups.push(() => r.close());
  for (const id of units) {
    r.sim.unit(id).setRegisters('holding', 10, [ID_PLUS_HALF[id]!, 0x0000]);
    r.sim.unit(id).setBits('coil', 3, [id % 2 === 1]);
  }
  return r;
}

function device(path: string, unitId: number, over: Record<string, unknown> = {}) {
  return modbusRtuDeviceSchema.parse({
    id: `unit-${unitId}`,
    type: 'modbus-rtu',
    port: { path, baudRate: 38400, reopen: { initialDelayMs: 50, maxDelayMs: 200, watchIntervalMs: 100 } },
    unitId,
    intervalMs: 100,
    timeoutMs: 100,
    breaker: { failureThreshold: 3, minBackoffMs: 300, maxBackoffMs: 1000 },
    registers: [
      { name: 'temperature', address: 10, type: 'float32', unit: 'Cel' },
      { name: 'pump-on', table: 'coil', address: 3, type: 'bool' },
    ],
    ...over,
  });
}

interface Running {
  driver: Driver;
  ctx: CapturingContext;
}

async function start(path: string, unitId: number, over: Record<string, unknown> = {}): Promise<Running> {
  const ctx = capturingContext(`unit-${unitId}`);
  const driver = createModbusRtuDriver(device(path, unitId, over), ctx);
  cleanups.push(() => driver.stop());
  await driver.start();
  return { driver, ctx };
}

const counter = (r: Running, name: string) => r.driver.status().counters[name] ?? 0;
const goodCount = (r: Running, point = 'temperature') => r.ctx.readings.filter((x) => x.point === point && x.quality === 'good').length;

describe('modbus-rtu driver over a pty bus', () => {
  it('writePdu(): a command goes out on the shared bus and the next poll reads it back', async () => {
    const r = await rig([2]);
    const u = await start(r.path, 2, { registers: [{ name: 'valve', table: 'coil', address: 9, type: 'bool' }] });
    await waitUntil(() => u.driver.status().state === 'ok', 10_000, 'unit ok');
    await (u.driver as ModbusRtuDriver).writePdu({ op: 'write-coil', address: 9, value: true });
    expect(r.sim.unit(2).coil[9]).toBe(1);
    await waitUntil(() => u.ctx.readings.some((x) => x.point === 'valve' && x.value === true), 10_000, 'the written coil read back');
  });

  it('three units on one port: one shared bus, right values per unit, status ok', async () => {
    const r = await rig([1, 2, 3]);
    const units = await Promise.all([1, 2, 3].map((id) => start(r.path, id)));
    expect(sharedRtuBuses.size).toBe(1);
    await waitUntil(() => units.every((u) => u.driver.status().state === 'ok' && goodCount(u) >= 3), 10_000, 'all units ok');
    for (const [i, u] of units.entries()) {
      const id = i + 1;
      expect(u.ctx.readings.find((x) => x.point === 'temperature')).toMatchObject({ value: id + 0.5, quality: 'good', unit: 'Cel' });
      expect(u.ctx.readings.find((x) => x.point === 'pump-on')).toMatchObject({ value: id % 2 === 1, quality: 'good' });
      const s = u.driver.status();
      expect(s.detail).toMatchObject({ unitId: id, breaker: 'closed', portOpen: true, unitsOnBus: 3 });
      expect(s.counters).toMatchObject({ timeouts: 0, crcErrors: 0, shortFrames: 0, wrongUnit: 0, exceptions: 0 });
    }
  });

  it('keeps the spec inter-frame silence on the wire (t3.5 = 3.65 ms at 9600 8N1)', async () => {
    const r = await rig([1, 2]);
    const at9600 = { intervalMs: 10, port: { path: r.path, baudRate: 9600 } };
    await Promise.all([start(r.path, 1, at9600), start(r.path, 2, at9600)]);
    await waitUntil(() => r.sim.stats.silenceBeforeRequestMs.length >= 100, 15_000, '100 back-to-back transactions');
    const gaps = [...r.sim.stats.silenceBeforeRequestMs].sort((a, b) => a - b);
    // Measured from the simulator's write callback, which fires at or after the reply became
    // readable: a gap can only come out shorter than it was (by event-loop jitter), never longer.
    // So the typical gap must clear t3.5, and nine in ten must be far above back-to-back (~0.2 ms).
    // Not the single worst: on a loaded machine one late callback can shrink any one gap to nothing.
    expect(gaps[gaps.length >> 1]!).toBeGreaterThanOrEqual(3.65);
    expect(gaps[Math.floor(gaps.length / 10)]!).toBeGreaterThanOrEqual(2.5);
  });

  const faults: Array<[string, RtuUnitFault, string, string]> = [
    ['short reply', { kind: 'short' }, 'shortFrames', 'MODBUS_SHORT_FRAME'],
    ['bad CRC', { kind: 'crc' }, 'crcErrors', 'MODBUS_CRC_ERROR'],
    ['wrong unit id', { kind: 'wrong-unit' }, 'wrongUnit', 'MODBUS_WRONG_UNIT'],
    ['exception', { kind: 'exception', code: 2 }, 'exceptions', 'MODBUS_EXCEPTION_2'],
    ['silence', { kind: 'silence' }, 'timeouts', 'ETIMEDOUT'],
  ];
  for (const [name, fault, counterName, code] of faults) {
    it(`${name} on one unit: counted as ${counterName} (${code}), logged rate-limited, neighbours untouched`, async () => {
      const r = await rig([1, 2, 3]);
      const [u1, u2, u3] = await Promise.all([1, 2, 3].map((id) => start(r.path, id)));
      await waitUntil(() => [u1!, u2!, u3!].every((u) => u.driver.status().state === 'ok'), 10_000, 'all ok');
      r.sim.setFault(2, fault);
      await waitUntil(() => counter(u2!, counterName) >= 3, 10_000, `${counterName} >= 3 on unit 2`);
      const s = u2!.driver.status();
      expect(s.state).toBe('down');
      expect(s.lastError?.code).toBe(code);
      expect(u2!.ctx.readings.filter((x) => x.quality === 'bad').map((x) => x.attrs?.error)).toContain(code);
      // Every other fault counter of unit 2 stays at zero: the classification is exact.
      for (const [, , other] of faults) if (other !== counterName) expect(counter(u2!, other), other).toBe(0);
      if (counterName !== 'timeouts') {
        const warned = u2!.ctx.logs.filter((l) => l.level === 40 && l.code === code && l.unitId === 2);
        expect(warned.length).toBeGreaterThanOrEqual(1);
        expect(warned.length).toBeLessThan(counter(u2!, counterName));
      }
      for (const u of [u1!, u3!]) {
        expect(u.driver.status().state).toBe('ok');
        for (const [, , c] of faults) expect(counter(u, c), c).toBe(0);
      }
      r.sim.clearFault(2);
      const before = goodCount(u2!);
      await waitUntil(() => u2!.driver.status().state === 'ok' && goodCount(u2!) > before, 10_000, 'unit 2 ok again');
    });
  }

  it('a silent unit opens its breaker, is probed, and closes it when it answers again', async () => {
    const r = await rig([1, 2]);
    const [u1, u2] = await Promise.all([start(r.path, 1), start(r.path, 2)]);
    await waitUntil(() => u2!.driver.status().state === 'ok', 10_000, 'unit 2 ok');
    r.sim.setFault(2, { kind: 'silence' });
    await waitUntil(() => u2!.driver.status().detail?.breaker === 'open', 10_000, 'breaker open');
    expect(counter(u2!, 'timeouts')).toBe(3);
    expect(u2!.driver.status().state).toBe('down');
    await waitUntil(() => counter(u2!, 'probes') >= 2 && counter(u2!, 'skippedPolls') >= 3, 10_000, 'skipped polls and probes');
    // While open, only probes reach the bus: one timeout per probe, none for skipped polls.
    expect(counter(u2!, 'timeouts')).toBeLessThanOrEqual(3 + counter(u2!, 'probes'));
    expect(u2!.ctx.logs.some((l) => l.level === 40 && /circuit breaker open/.test(String(l.msg)))).toBe(true);

    r.sim.clearFault(2);
    await waitUntil(() => u2!.driver.status().detail?.breaker === 'closed' && u2!.driver.status().state === 'ok', 10_000, 'breaker closed');
    expect(u2!.ctx.logs.some((l) => /circuit breaker closed/.test(String(l.msg)))).toBe(true);
    expect(u1!.driver.status().state).toBe('ok');
    expect(counter(u1!, 'timeouts')).toBe(0);
  });

  it('a dead unit leaves the healthy ones >= 60 % of their poll rate (3 x 100 ms + one silent at 100 ms timeout, default breaker)', async () => {
    const r = await rig([1, 2, 3, 4]);
    r.sim.setFault(4, { kind: 'silence' });
    const defaults = { breaker: { failureThreshold: 3, minBackoffMs: 1000, maxBackoffMs: 30_000 } };
    const healthy = await Promise.all([1, 2, 3].map((id) => start(r.path, id, defaults)));
    const dead = await start(r.path, 4, defaults);
    await waitUntil(() => healthy.every((u) => u.driver.status().state === 'ok'), 10_000, 'healthy units ok');
    const windowMs = 4000;
    const before = healthy.map((u) => counter(u, 'polls'));
    const t0 = Date.now();
    await new Promise((res) => setTimeout(res, windowMs));
    const elapsed = Date.now() - t0;
    const rates = healthy.map((u, i) => (counter(u, 'polls') - before[i]!) / (elapsed / 100));
    // Bound: >= 60 % of nominal. Without a breaker every round carries one 100 ms timeout, which
    // caps the healthy units at 50 % (measured: 47-50 %); with it the dead unit costs one probe
    // per backoff (1 s, 2 s, 4 s ...), measured 93-97 %. 60 % separates the two with room for noise.
    for (const rate of rates) expect(rate).toBeGreaterThanOrEqual(0.6);
    expect(dead.driver.status().detail?.breaker).not.toBe('closed');
    expect(dead.driver.status().state).toBe('down');
  });

  it('adapter unplugged and plugged back: units report the port error, then recover on the same path', async () => {
    const r = await rig([1, 2]);
    const units = await Promise.all([start(r.path, 1), start(r.path, 2)]);
    await waitUntil(() => units.every((u) => u.driver.status().state === 'ok'), 10_000, 'all ok');
    const before = units.map((u) => goodCount(u));
    await r.unplug();
    await waitUntil(() => units.every((u) => u.driver.status().state === 'down'), 10_000, 'all down after unplug');
    for (const u of units) {
      const s = u.driver.status();
      expect(s.lastError?.code).toMatch(/^SERIAL_(UNPLUGGED|NOT_FOUND)$/);
      expect(s.detail).toMatchObject({ portOpen: false, breaker: 'closed' });
      // One bad reading per point, carrying the port's code, not one per poll.
      const bad = u.ctx.readings.filter((x) => x.quality === 'bad');
      expect(bad.map((x) => x.point).sort()).toEqual(['pump-on', 'temperature']);
      expect(String(bad[0]!.attrs?.error)).toMatch(/^SERIAL_/);
    }
    await new Promise((res) => setTimeout(res, 300)); // several reopen attempts against a missing path
    await r.replug();
    await waitUntil(() => units.every((u, i) => u.driver.status().state === 'ok' && goodCount(u) > before[i]!), 10_000, 'all ok after replug');
    const bus = units[0]!.driver.status().detail?.bus as { port: { reopens: number; unplugs: number } };
    expect(bus.port.reopens).toBeGreaterThanOrEqual(1);
    expect(bus.port.unplugs).toBeGreaterThanOrEqual(1);
    expect(units[0]!.driver.status().detail?.resolvedPort).toBe((await r.pair.devices()).a);
  });

  it('port absent at start: start() resolves, status says SERIAL_NOT_FOUND, polling begins when it appears', async () => {
    const r = await rig([1]);
    await r.unplug();
    const u = await start(r.path, 1);
    await waitUntil(() => u.driver.status().lastError?.code === 'SERIAL_NOT_FOUND', 10_000, 'SERIAL_NOT_FOUND');
    expect(u.driver.status().state).toBe('down');
    expect(u.driver.status().lastError?.message).toContain(r.path);
    await r.replug();
    await waitUntil(() => u.driver.status().state === 'ok', 10_000, 'ok once the port exists');
  });

  it('a second device with other line settings on the same port is refused with a clear error; the first keeps polling', async () => {
    const r = await rig([1, 2]);
    const first = await start(r.path, 1);
    const ctx = capturingContext('unit-2');
    const second = createModbusRtuDriver(device(r.path, 2, { port: { path: r.path, baudRate: 9600, parity: 'even' } }), ctx);
    cleanups.push(() => second.stop());
    const err = (await second.start().catch((e: unknown) => e)) as { code?: string; message?: string };
    expect(err.code).toBe('MODBUS_RTU_PORT_CONFLICT');
    expect(err.message).toContain(r.path);
    expect(err.message).toContain('device "unit-1"');
    expect(err.message).toMatch(/baudRate 38400, parity none.*baudRate 9600, parity even/);
    expect(second.status()).toMatchObject({ state: 'down', lastError: { code: 'MODBUS_RTU_PORT_CONFLICT' } });
    const n = goodCount(first);
    await waitUntil(() => goodCount(first) > n + 2, 10_000, 'first device still polling');
    await second.stop();
    expect(second.status().state).toBe('stopped');
  });

  it('a second device claiming the same unit id on the port is refused', async () => {
    const r = await rig([1]);
    await start(r.path, 1);
    const twin = createModbusRtuDriver(device(r.path, 1, { id: 'unit-1-twin' }), capturingContext('twin'));
    cleanups.push(() => twin.stop());
    await expect(twin.start()).rejects.toMatchObject({ code: 'MODBUS_RTU_UNIT_IN_USE', message: expect.stringContaining('"unit-1"') });
  });

  it('the bus is opened by the first device and closed by the last one to stop', async () => {
    const r = await rig([1, 2]);
    const a = await start(r.path, 1);
    const b = await start(r.path, 2);
    expect(sharedRtuBuses.size).toBe(1);
    await a.driver.stop();
    expect(sharedRtuBuses.size).toBe(1);
    const n = goodCount(b);
    await waitUntil(() => goodCount(b) > n + 2, 10_000, 'second device still polling after the first stopped');
    await b.driver.stop();
    expect(sharedRtuBuses.size).toBe(0);
    // The port lock is released: a new device opens it again.
    const c = await start(r.path, 2);
    await waitUntil(() => c.driver.status().state === 'ok', 10_000, 'reopened by a new device');
  });
});
