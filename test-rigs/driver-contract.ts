import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeviceStatus, Driver, DriverContext } from '../drivers/driver.js';
import { expandPacked, type PackedReadings } from '../gateway/model/packed-readings.js';
import { PackedRun, type Committable } from '../gateway/model/packed-run.js';
import type { DriverReading } from '../gateway/model/reading.js';
import { pollRecords, publishedBatch } from './v2-batch.js';

/**
 * The contract every driver passes against its simulator (after MQTT.js's abstractStoreTest):
 *
 *   driverContractSuite('modbus-tcp', async () => ({ create, healthy, breakDevice, teardown }));
 *
 * `setup` runs before each test and `teardown` after it, so every test gets a fresh device.
 * The fixture's `create` should configure a short poll interval / timeout (tens to a few hundred
 * ms): the suite waits with generous bounds (`CONTRACT_WAIT_MS`) but no driver should need them.
 *
 * The suite's context offers `emitPacked`, as the daemon's does, so a driver's packed path (the
 * one production runs) is what the tests see; packed readings are checked and expanded into
 * `batches` like any other emit. One test runs without it, for a core that does not offer it.
 */


/** A state event (drivers/kit/device-state-log.ts) is news about the device's state, not a value of one of its points. */
const isStateEvent = (r: DriverReading): boolean => r.point === 'state' && r.kind === 'event';

export interface ContractFixture {
  create(ctx: DriverContext): Driver;
  /** Make the device answer (again). */
  healthy(): Promise<void>;
  /** Make the device silent or unreachable. */
  breakDevice(): Promise<void>;
  teardown(): Promise<void>;
  /** The driver hands its good readings to `emitPacked` when offered: the suite checks it does. */
  emitsPacked?: boolean;
}

export const CONTRACT_WAIT_MS = 15_000;

export interface RecordingContext {
  ctx: DriverContext;
  /** Every emit call, in order; an emitPacked call appears here expanded into readings. */
  batches: DriverReading[][];
  /** How many of `batches` came through emitPacked. */
  packedBatches(): number;
  readings(): DriverReading[];
  /** Every emit as the core would commit it (packed runs kept packed, their values read at emit time), in order. */
  committed(): Committable[];
}

/**
 * A DriverContext that records emits; logs go nowhere unless EDGE_TEST_LOG=debug etc. is set.
 * With `packed`, it also offers emitPacked, as the daemon does.
 */
export function recordingContext(deviceId = 'contract-device', opts: { packed?: boolean } = {}): RecordingContext {
  const batches: DriverReading[][] = [];
  const committed: Committable[] = [];
  let packedBatches = 0;
  const log = pino({ level: process.env.EDGE_TEST_LOG ?? 'silent' }).child({ device: deviceId });
  return {
    ctx: {
      deviceId,
      log,
      emit(readings) {
        batches.push(readings);
        committed.push(...readings.map((r) => ({ ...r, device: deviceId })));
      },
      ...(opts.packed
        ? {
            emitPacked(packs: readonly PackedReadings[]) {
              packs.forEach(expectWellFormedPacked);
              packedBatches++;
              // Expanded now: the values are read from the driver's buffers at emit time, as the core does.
              batches.push(packs.flatMap(expandPacked));
              for (const p of packs) {
                const values = Array.from({ length: p.count }, (_, i) => p.value(i));
                committed.push(new PackedRun(deviceId, { points: p.points, count: p.count, ts: p.ts, value: (i) => values[i]! }));
              }
            },
          }
        : {}),
    },
    batches,
    packedBatches: () => packedBatches,
    readings: () => batches.flat(),
    committed: () => committed.slice(),
  };
}

/** Packed readings keep their promise: one name and unit slot per value, a sane ts, good values only. */
export function expectWellFormedPacked(p: PackedReadings): void {
  expect(p.count).toBeGreaterThan(0);
  expect(p.points.names).toHaveLength(p.count);
  expect(p.points.units).toHaveLength(p.count);
  expect(Number.isFinite(p.ts)).toBe(true);
  for (let i = 0; i < p.count; i++) {
    const v = p.value(i);
    expect(typeof v === 'boolean' || Number.isFinite(v), `packed value ${i} = ${String(v)}`).toBe(true);
  }
}

/** Poll `check` until it returns a truthy value or `timeoutMs` passes (then fail with `what`). */
export async function waitFor<T>(what: string, check: () => T | undefined | null | false, timeoutMs = CONTRACT_WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const STATES = ['starting', 'ok', 'degraded', 'down', 'stopped'];

export function expectWellFormedStatus(s: DeviceStatus): void {
  expect(STATES).toContain(s.state);
  expect(s.lastGoodTs === null || Number.isFinite(s.lastGoodTs)).toBe(true);
  if (s.lastError !== null) {
    expect(typeof s.lastError.code).toBe('string');
    expect(s.lastError.code.length).toBeGreaterThan(0);
    expect(typeof s.lastError.message).toBe('string');
    expect(Number.isFinite(s.lastError.ts)).toBe(true);
  }
  expect(typeof s.counters).toBe('object');
  for (const [k, v] of Object.entries(s.counters)) {
    expect(Number.isFinite(v), `counter ${k} = ${v}`).toBe(true);
    expect(v, `counter ${k}`).toBeGreaterThanOrEqual(0);
  }
  if (s.detail !== undefined) expect(typeof s.detail).toBe('object');
}

export function expectWellFormedReading(r: DriverReading): void {
  expect(typeof r.point).toBe('string');
  expect(r.point.length).toBeGreaterThan(0);
  expect(['good', 'bad', 'uncertain']).toContain(r.quality);
  expect(Number.isFinite(r.ts)).toBe(true);
  expect(r.ts).toBeGreaterThan(Date.UTC(2020, 0, 1));
  const t = typeof r.value;
  expect(r.value === null || t === 'number' || t === 'boolean' || t === 'string').toBe(true);
  if (typeof r.value === 'number') expect(Number.isFinite(r.value)).toBe(true);
  if (r.quality === 'bad') expect(r.value).toBeNull();
  if (r.kind !== undefined) expect(['telemetry', 'event']).toContain(r.kind);
  if (r.unit !== undefined) expect(typeof r.unit).toBe('string');
}

export function driverContractSuite(name: string, setup: () => Promise<ContractFixture>): void {
  describe(`driver contract: ${name}`, () => {
    let fixture: ContractFixture;
    let rec: RecordingContext;
    let driver: Driver | null;

    beforeEach(async () => {
      fixture = await setup();
      rec = recordingContext(`contract-${name}`, { packed: true });
      driver = null;
    });

    afterEach(async () => {
      await driver?.stop();
      await fixture.teardown();
    });

    const startDriver = async () => {
      driver = fixture.create(rec.ctx);
      expectWellFormedStatus(driver.status());
      await driver.start();
      return driver;
    };
    // Values of the device's points: a state event (drivers/kit/device-state-log.ts) is good news about the state, not a value.
    const goodReadings = () => rec.readings().filter((r) => r.quality === 'good' && !isStateEvent(r));

    it('start() resolves although the device is unreachable, and status reports why', async () => {
      await fixture.breakDevice();
      const d = await startDriver();
      const s = await waitFor('an error with a code in status', () => {
        const st = d.status();
        expectWellFormedStatus(st);
        return st.lastError !== null ? st : null;
      });
      expect(s.state).not.toBe('ok');
      expect(s.lastGoodTs).toBeNull();
      expect(goodReadings()).toHaveLength(0);
      rec.readings().forEach(expectWellFormedReading);
    });

    it('healthy device: well-formed readings and status ok with lastGoodTs', async () => {
      await fixture.healthy();
      const before = Date.now();
      const d = await startDriver();
      await waitFor('two batches of good readings', () => rec.batches.filter((b) => b.some((r) => r.quality === 'good' && !isStateEvent(r))).length >= 2);
      rec.readings().forEach(expectWellFormedReading);
      const s = await waitFor('state ok', () => (d.status().state === 'ok' ? d.status() : null));
      expectWellFormedStatus(s);
      expect(s.lastGoodTs).not.toBeNull();
      expect(s.lastGoodTs!).toBeGreaterThanOrEqual(before - 1000);
      expect(s.lastGoodTs!).toBeLessThanOrEqual(Date.now() + 1000);
      if (fixture.emitsPacked) {
        // The first reads may carry nothing packable (a partial interval, a state event).
        await waitFor('good readings handed over packed', () => rec.packedBatches() > 0);
        // Payload v2 carries the packed readings as poll records, and a subscriber expanding them
        // gets, seq for seq, what v1 sends for the same emits.
        const v2 = publishedBatch(rec.committed(), 2);
        expect(pollRecords(v2).length).toBeGreaterThan(0);
        expect(v2.readings).toEqual(publishedBatch(rec.committed(), 1).readings);
      }
    });

    it('a context without emitPacked (a core that does not offer it) gets the same good readings through emit', async () => {
      await fixture.healthy();
      rec = recordingContext(`contract-${name}-plain`);
      const d = await startDriver();
      await waitFor('two batches of good readings', () => rec.batches.filter((b) => b.some((r) => r.quality === 'good' && !isStateEvent(r))).length >= 2);
      rec.readings().forEach(expectWellFormedReading);
      await waitFor('state ok', () => d.status().state === 'ok');
    });

    it('broken device: state leaves ok, lastError has a code, then recovers when healthy', async () => {
      await fixture.healthy();
      const d = await startDriver();
      await waitFor('state ok', () => d.status().state === 'ok');
      await fixture.breakDevice();
      const broken = await waitFor('state to leave ok', () => (d.status().state !== 'ok' ? d.status() : null));
      expectWellFormedStatus(broken);
      expect(['degraded', 'down']).toContain(broken.state);
      const withError = await waitFor('lastError', () => d.status().lastError);
      expect(withError.code).toMatch(/^[A-Z0-9_]+$/);

      await fixture.healthy();
      const goodBefore = goodReadings().length;
      await waitFor('state ok again', () => d.status().state === 'ok');
      await waitFor('new good readings after recovery', () => goodReadings().length > goodBefore);
      const s = d.status();
      expectWellFormedStatus(s);
      expect(s.lastGoodTs!).toBeGreaterThan(broken.lastGoodTs ?? 0);
      rec.readings().forEach(expectWellFormedReading);
    });

    it('stop(): status stopped and no emits afterwards', async () => {
      await fixture.healthy();
      const d = await startDriver();
      await waitFor('good readings', () => goodReadings().length > 0);
      await d.stop();
      const count = rec.batches.length;
      expect(d.status().state).toBe('stopped');
      expectWellFormedStatus(d.status());
      // Long enough for several poll intervals and a reconnect attempt of any sane fixture.
      await new Promise((r) => setTimeout(r, 1000));
      expect(rec.batches.length).toBe(count);
      await d.stop(); // idempotent
    });

    it('stop() while the device is unreachable resolves and emits nothing more', async () => {
      await fixture.breakDevice();
      const d = await startDriver();
      await waitFor('an error in status', () => d.status().lastError);
      await d.stop();
      const count = rec.batches.length;
      await new Promise((r) => setTimeout(r, 500));
      expect(rec.batches.length).toBe(count);
      expect(d.status().state).toBe('stopped');
    });
  });
}
