import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { recordingContext, waitFor } from '../../test-rigs/driver-contract.js';
import { startModbusTcpSimulator, type ModbusTcpSimulator, type SimulatorOptions } from '../../test-rigs/modbus-sim/server.js';
import type { Driver, DriverContext } from '../driver.js';
import type { DriverReading } from '../../gateway/model/reading.js';
import { modbusTcpDeviceSchema } from './schema.js';
import { createModbusTcpDriver, type ModbusTcpDriver } from './tcp-driver.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function sim(opts: SimulatorOptions): Promise<ModbusTcpSimulator> {
  const s = await startModbusTcpSimulator({ clock: 'manual', ...opts });
  cleanups.push(() => s.stop());
  return s;
}

function device(s: { host: string; port: number }, extra: Record<string, unknown> = {}) {
  return modbusTcpDeviceSchema.parse({
    id: 'plc',
    type: 'modbus-tcp',
    host: s.host,
    port: s.port,
    intervalMs: 50,
    timeoutMs: 200,
    registers: [{ name: 'r0', address: 0, type: 'uint16' }],
    ...extra,
  });
}

async function run(config: ReturnType<typeof device>, ctx: DriverContext): Promise<Driver> {
  const d = createModbusTcpDriver(config, ctx);
  cleanups.push(() => d.stop());
  await d.start();
  return d;
}

const byPoint = (rs: DriverReading[], point: string) => rs.filter((r) => r.point === point);

describe('modbus-tcp driver', () => {
  it('write(): a command goes out on the poll connection and the next poll reads it back; none while disconnected', async () => {
    const s = await sim({ units: [1] });
    const rec = recordingContext();
    const d = createModbusTcpDriver(device(s, { registers: [{ name: 'setpoint', address: 5, type: 'uint16' }] }), rec.ctx) as ModbusTcpDriver;
    cleanups.push(() => d.stop());
    await expect(d.writePdu({ op: 'write-register', address: 5, value: 1 })).rejects.toMatchObject({ code: 'ENOTCONN', kind: 'connection' });
    await d.start();
    await waitFor('connected', () => d.status().detail?.connected === true);
    await d.writePdu({ op: 'write-register', address: 5, value: 0x1234 });
    expect(s.unit(1).holding[5]).toBe(0x1234);
    await waitFor('the written value read back', () => rec.readings().some((r) => r.point === 'setpoint' && r.value === 0x1234));
  });

  it('decodes a mixed register map into one batch per poll', async () => {
    const s = await sim({ units: [3] });
    const u = s.unit(3);
    u.setRegisters('holding', 10, [0x3fc0, 0x0000]); // 1.5 as float32 ABCD
    u.setRegisters('holding', 12, [0xff29]); // -215 as int16
    u.setRegisters('holding', 20, [0xcd15, 0x075b]); // 123456789 = 0x075bcd15, low word first
    u.setRegisters('input', 7, [0b0100]);
    u.setBits('coil', 5, [true]);
    u.setBits('discrete', 0, [false, true]);
    const rec = recordingContext();
    await run(
      device(s, {
        unitId: 3,
        maxGap: 8,
        registers: [
          { name: 'flow', address: 10, type: 'float32', unit: 'm3/h' },
          { name: 'temp', address: 12, type: 'int16', scale: 0.1, unit: 'Cel' },
          { name: 'energy', address: 20, type: 'uint32', wordOrder: 'little' },
          { name: 'alarm', table: 'input', address: 7, type: 'bit', bit: 2 },
          { name: 'pump', table: 'coil', address: 5, type: 'bool' },
          { name: 'door', table: 'discrete', address: 1, type: 'bool' },
        ],
      }),
      rec.ctx,
    );
    await waitFor('a batch', () => rec.batches.length >= 1);
    const batch = rec.batches[0]!;
    expect(new Set(batch.map((r) => r.ts)).size).toBe(1);
    expect(Object.fromEntries(batch.map((r) => [r.point, [r.value, r.quality, r.unit]]))).toEqual({
      flow: [1.5, 'good', 'm3/h'],
      temp: [expect.closeTo(-21.5, 9), 'good', 'Cel'],
      energy: [123456789, 'good', undefined],
      alarm: [true, 'good', undefined],
      pump: [true, 'good', undefined],
      door: [true, 'good', undefined],
    });
    // holding 10..21 coalesced (gap 14..19 <= maxGap 8), plus input, coil, discrete: four requests a
    // poll (read from the log: a count of requests raced the next poll).
    expect(s.stats.requestLog.slice(0, 4).map((r) => r.functionCode)).toEqual([3, 4, 1, 2]);
  });

  it('a Modbus exception is MODBUS_EXCEPTION_n, keeps the connection, and fails only its own request', async () => {
    const s = await sim({ units: { 1: { size: { holding: 20 } } } });
    const rec = recordingContext();
    const d = await run(
      device(s, { registers: [{ name: 'inside', address: 0, type: 'uint16' }, { name: 'outside', address: 30, type: 'uint16' }] }),
      rec.ctx,
    );
    await waitFor('degraded', () => d.status().state === 'degraded');
    await waitFor('a few failed polls', () => d.status().counters.exceptions! >= 5);
    const st = d.status();
    expect(st.lastError?.code).toBe('MODBUS_EXCEPTION_2');
    expect(st.lastError?.message).toMatch(/ILLEGAL DATA ADDRESS/);
    expect(st.counters.timeouts).toBe(0);
    expect(st.counters.reconnects).toBe(0);
    expect(s.stats.connectionsAccepted).toBe(1);
    expect(byPoint(rec.readings(), 'inside').every((r) => r.quality === 'good')).toBe(true);
    // bad once when it goes bad, then silence
    expect(byPoint(rec.readings(), 'outside')).toEqual([
      expect.objectContaining({ value: null, quality: 'bad', attrs: { error: 'MODBUS_EXCEPTION_2' } }),
    ]);
  });

  it('a silent device is ETIMEDOUT and triggers a reconnect; a refused one is ECONNREFUSED', async () => {
    const s = await sim({ units: [1] });
    s.setFault(1, { kind: 'silence' });
    const rec = recordingContext();
    const d = await run(device(s), rec.ctx);
    await waitFor('two timeouts', () => d.status().counters.timeouts! >= 2);
    expect(d.status()).toMatchObject({ state: 'down', lastError: { code: 'ETIMEDOUT' } });
    expect(d.status().counters.reconnects).toBeGreaterThanOrEqual(1);
    expect(d.status().counters.exceptions).toBe(0);

    await s.refuse();
    await waitFor('ECONNREFUSED', () => d.status().lastError?.code === 'ECONNREFUSED');
    expect(d.status().counters.connectFailures).toBeGreaterThanOrEqual(1);
    // One bad reading for the whole outage, whatever the cause changed to.
    expect(byPoint(rec.readings(), 'r0')).toEqual([expect.objectContaining({ quality: 'bad', attrs: { error: 'ETIMEDOUT' } })]);
  });

  it('emits one bad reading per point per outage and good readings again after it', async () => {
    const s = await sim({ units: [1] });
    const rec = recordingContext();
    const d = await run(device(s, { registers: [{ name: 'a', address: 0, type: 'uint16' }, { name: 'b', address: 1, type: 'uint16', unit: 'V' }] }), rec.ctx);
    await waitFor('ok', () => d.status().state === 'ok');
    for (let outage = 1; outage <= 2; outage++) {
      await s.refuse();
      await waitFor('down', () => d.status().state === 'down');
      await new Promise((r) => setTimeout(r, 400)); // several intervals and reconnect attempts
      const bad = rec.readings().filter((r) => r.quality === 'bad');
      expect(bad.map((r) => r.point).sort()).toEqual(Array.from({ length: outage }, () => ['a', 'b']).flat().sort());
      expect(bad.find((r) => r.point === 'b')?.unit).toBe('V');
      await s.restore();
      const goodBefore = rec.readings().filter((r) => r.quality === 'good').length;
      await waitFor('ok again', () => d.status().state === 'ok');
      await waitFor('good readings again', () => rec.readings().filter((r) => r.quality === 'good').length > goodBefore);
    }
  });

  it('reconnects after the device drops the connection and after it restarts on the same port', async () => {
    let s = await sim({ units: [1] });
    const port = s.port;
    const rec = recordingContext();
    const d = await run(device(s), rec.ctx);
    await waitFor('ok', () => d.status().state === 'ok');

    s.dropConnections();
    await waitFor('a reconnect', () => d.status().counters.reconnects! >= 1);
    await waitFor('ok after drop', () => d.status().state === 'ok');
    expect(['ECONNRESET', 'ENOTCONN']).toContain(d.status().lastError?.code);

    await s.stop();
    await waitFor('down while stopped', () => d.status().state === 'down');
    s = await sim({ units: [1], port });
    s.unit(1).setRegisters('holding', 0, [4242]);
    await waitFor('reading from the restarted device', () => rec.readings().some((r) => r.value === 4242));
    expect(d.status().state).toBe('ok');
  });

  it('a silent or slow device does not slow another device down', async () => {
    const s = await sim({ units: [1, 2, 3] });
    s.setFault(2, { kind: 'silence' });
    s.setFault(3, { kind: 'slow', ms: 400 });
    const fast = await run(device(s, { id: 'fast', unitId: 1 }), recordingContext('fast').ctx);
    const silent = await run(device(s, { id: 'silent', unitId: 2, timeoutMs: 1000 }), recordingContext('silent').ctx);
    const slow = await run(device(s, { id: 'slow', unitId: 3, timeoutMs: 1000 }), recordingContext('slow').ctx);
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 2000));
    const elapsed = Date.now() - t0;
    const polls = fast.status().counters.polls!;
    // 50 ms interval over ~2 s is ~40 polls; half of that is a generous floor for a noisy box.
    expect(polls).toBeGreaterThanOrEqual(Math.floor(elapsed / 50 / 2));
    expect(fast.status().state).toBe('ok');
    expect(silent.status().counters.timeouts).toBeGreaterThanOrEqual(1);
    expect(slow.status().counters.overruns).toBeGreaterThanOrEqual(1);
  });

  it('never overlaps polls: an overrunning poll skips ticks and counts overruns', async () => {
    const s = await sim({ units: [1] });
    s.setFault(1, { kind: 'slow', ms: 120 });
    const d = await run(device(s, { intervalMs: 30, timeoutMs: 1000 }), recordingContext().ctx);
    await waitFor('five polls', () => d.status().counters.polls! >= 5);
    const st = d.status();
    // each 120 ms poll swallows ~3 ticks of 30 ms
    expect(st.counters.overruns).toBeGreaterThanOrEqual(st.counters.polls! - 1);
    // one outstanding request at a time: the simulator never saw more than polls+1 requests
    expect(s.stats.requests).toBeLessThanOrEqual(st.counters.polls! + 1);
    expect(st.state).toBe('ok');
  });

  it('stop() during a request in flight resolves promptly and emits nothing afterwards', async () => {
    const s = await sim({ units: [1] });
    const rec = recordingContext();
    const d = await run(device(s, { timeoutMs: 10_000 }), rec.ctx);
    await waitFor('a good batch', () => rec.batches.length >= 1);
    s.setFault(1, { kind: 'silence' });
    await new Promise((r) => setTimeout(r, 200)); // a request is now waiting on a silent device
    const t0 = Date.now();
    await d.stop();
    expect(Date.now() - t0).toBeLessThan(2000);
    const n = rec.batches.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(rec.batches.length).toBe(n);
    expect(d.status().state).toBe('stopped');
    await waitFor('socket closed at the simulator', () => s.stats.openConnections === 0);
  });

  it('logs state transitions, not every failed poll', async () => {
    const s = await sim({ units: [1] });
    const lines: Array<{ level: number; msg: string; code?: string }> = [];
    const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    const rec = recordingContext();
    const d = await run(device(s), { ...rec.ctx, log });
    await waitFor('ok', () => d.status().state === 'ok');
    s.setFault(1, { kind: 'exception', code: 4 });
    await waitFor('many failed polls', () => d.status().counters.exceptions! >= 10);
    const warns = lines.filter((l) => l.level === 40);
    expect(warns).toHaveLength(1);
    expect(warns[0]).toMatchObject({ code: 'MODBUS_EXCEPTION_4' });
    expect(warns[0]!.msg).toMatch(/SERVER DEVICE FAILURE/);
  });
});
