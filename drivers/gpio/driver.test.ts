import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeGpio } from '../../test-rigs/fake-gpio/fake-pins.js';
import { recordingContext } from '../../test-rigs/driver-contract.js';
import { pollRecords, publishedBatch } from '../../test-rigs/v2-batch.js';
import { encodeReading } from '../../gateway/payload/encode.js';
import type { DriverReading } from '../../gateway/model/reading.js';
import type { Driver, DriverContext } from '../driver.js';
import { gpioDriverFactory } from './driver.js';
import { gpioDeviceSchema } from './schema.js';

// Fake timers drive the debounce windows, interval boundaries and the fake lines together, so
// timing is exact here and nothing depends on how busy the machine is.
const T0 = Date.UTC(2025, 0, 1, 8, 0, 10); // 10 s past a minute boundary

let gpio: FakeGpio;
let readings: DriverReading[];
let ctx: DriverContext;
let driver: Driver | null;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
  vi.setSystemTime(T0);
  gpio = new FakeGpio();
  readings = [];
  ctx = { deviceId: 'cabinet-io', log: pino({ level: 'silent' }), emit: (r) => readings.push(...r) };
  driver = null;
});

afterEach(async () => {
  await driver?.stop();
  vi.useRealTimers();
});

async function startWith(inputs: unknown[], opts: { retryMs?: number; reconcileMs?: number } = {}) {
  const cfg = gpioDeviceSchema.parse({ id: 'cabinet-io', type: 'gpio', inputs });
  driver = gpioDriverFactory({ pinSource: gpio, reconcileMs: opts.reconcileMs ?? 1000, retryMs: opts.retryMs ?? 5000 })(cfg, ctx);
  await driver.start();
  return driver;
}

const at = (point: string) => readings.filter((r) => r.point === point);

describe('gpio state inputs', () => {
  it('reports the level at start, then each debounced change once, dated at the first edge of the burst', async () => {
    gpio.set(5, 1); // door closed holds the line high; opening pulls it low (activeLow: open = active)
    const d = await startWith([{ name: 'door', pin: 5, activeLow: true, debounceMs: 30 }]);
    expect(d.status().state).toBe('ok');
    expect(at('door')).toEqual([
      { point: 'door', value: false, quality: 'good', ts: T0, kind: 'event', attrs: { initial: true } },
    ]);

    // Door opens: line goes low through a bounce burst (4 alternations, 1 ms apart).
    await vi.advanceTimersByTimeAsync(1000);
    const openedAt = Date.now();
    void gpio.bounce(5, 0, 4, 1);
    await vi.advanceTimersByTimeAsync(10);
    expect(at('door')).toHaveLength(1); // still bouncing / settling
    await vi.advanceTimersByTimeAsync(100);
    expect(at('door')).toHaveLength(2);
    expect(at('door')[1]).toMatchObject({ value: true, ts: openedAt, kind: 'event', attrs: { edge: 'rising' } });

    // A 5 ms glitch back to closed and open again is noise, not an event.
    void gpio.drive(5, [[1, 5], [0, 0]]);
    await vi.advanceTimersByTimeAsync(100);
    expect(at('door')).toHaveLength(2);

    await vi.advanceTimersByTimeAsync(500);
    void gpio.bounce(5, 1, 3, 2);
    await vi.advanceTimersByTimeAsync(100);
    expect(at('door')[2]).toMatchObject({ value: false, attrs: { edge: 'falling' } });

    const st = d.status();
    expect(st.counters.changes).toBe(2);
    expect(st.counters.glitches).toBe(1);
    expect(st.counters.rawEdges).toBeGreaterThanOrEqual(10);
    expect((st.detail?.inputs as Record<string, { active: boolean }>).door!.active).toBe(false);
  });

  it('edge: rising reports only activations; debounceMs 0 passes every change', async () => {
    await startWith([{ name: 'tamper', pin: 6, edge: 'rising', debounceMs: 0 }]);
    for (let i = 0; i < 3; i++) {
      gpio.set(6, 1);
      await vi.advanceTimersByTimeAsync(2);
      gpio.set(6, 0);
      await vi.advanceTimersByTimeAsync(2);
    }
    const events = at('tamper').filter((r) => !r.attrs?.initial);
    expect(events.map((r) => r.value)).toEqual([true, true, true]);
  });

  it('reconcile catches an edge the interrupt path missed', async () => {
    await startWith([{ name: 'barrier', pin: 12, debounceMs: 10 }], { reconcileMs: 1000 });
    // Change the level without notifying watchers, as a lost interrupt would.
    const claimedLine = (gpio as unknown as { lines: Map<number, { level: 0 | 1 }> }).lines.get(12)!;
    claimedLine.level = 1;
    await vi.advanceTimersByTimeAsync(1100);
    expect(at('barrier').at(-1)).toMatchObject({ value: true, attrs: { edge: 'rising' } });
  });
});

describe('gpio counter inputs (loop detector pulses)', () => {
  it('counts one pulse per vehicle despite bounce, per wall-clock-aligned interval, with a running total', async () => {
    await startWith([{ name: 'loop1', pin: 17, mode: 'counter', debounceMs: 15, intervalMs: 10_000 }]);
    const vehicle = async () => {
      void gpio.bounce(17, 1, 4, 1);
      await vi.advanceTimersByTimeAsync(300);
      void gpio.bounce(17, 0, 2, 1);
      await vi.advanceTimersByTimeAsync(300);
    };
    // First (partial) interval: T0 = :10 -> :20 boundary.
    await vehicle();
    await vehicle();
    await vi.advanceTimersByTimeAsync(8_900); // now :20.1, past the first (partial) boundary
    expect(at('loop1.count')).toHaveLength(1);
    await vehicle();
    await vehicle();
    await vehicle();
    await vi.advanceTimersByTimeAsync(8_200); // :30.1, one full interval with 3 vehicles
    const counts = at('loop1.count');
    const totals = at('loop1.total');
    expect(counts.map((r) => r.value)).toEqual([2, 3]);
    expect(totals.map((r) => r.value)).toEqual([2, 5]);
    expect(counts[0]).toMatchObject({ quality: 'good', kind: 'telemetry', ts: Date.UTC(2025, 0, 1, 8, 0, 20), attrs: { intervalMs: 10_000 } });
    expect(counts[1]!.ts % 10_000).toBe(0);
    expect(counts[1]!.attrs).toBeUndefined(); // full interval
    expect(driver!.status().counters.glitches).toBe(0);
  });

  it('a line fault makes the interval bad (null, not zero) and the recovered one uncertain', async () => {
    await startWith([{ name: 'loop2', pin: 22, mode: 'counter', debounceMs: 0, intervalMs: 5_000 }], { retryMs: 3_000, reconcileMs: 500 });
    await vi.advanceTimersByTimeAsync(5_000); // first partial interval, good
    gpio.breakAll();
    const st = driver!.status();
    expect(st.state).toBe('down');
    expect(st.lastError).toMatchObject({ code: 'GPIO_IO' });
    expect(st.lastError!.message).toMatch(/input "loop2" \(BCM 22\)/);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(at('loop2.count').at(-1)).toMatchObject({ value: null, quality: 'bad' });
    gpio.heal();
    await vi.advanceTimersByTimeAsync(4_000); // retry re-opens the line
    expect(driver!.status().state).toBe('ok');
    gpio.set(22, 1);
    gpio.set(22, 0);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(at('loop2.count').at(-1)).toMatchObject({ value: 1, quality: 'uncertain' });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(at('loop2.count').at(-1)).toMatchObject({ value: 0, quality: 'good' });
  });
});

describe('gpio duration inputs (occupancy)', () => {
  it('reports ms active and occupancy per interval, splitting a presence across boundaries', async () => {
    vi.setSystemTime(Date.UTC(2025, 0, 1, 8, 1, 0)); // exactly on a boundary
    await startWith([{ name: 'presence', pin: 23, mode: 'duration', debounceMs: 0, intervalMs: 10_000 }]);
    await vi.advanceTimersByTimeAsync(2_000);
    gpio.set(23, 1); // active from 2 s
    await vi.advanceTimersByTimeAsync(3_000);
    gpio.set(23, 0); // 3 s active
    await vi.advanceTimersByTimeAsync(4_000);
    gpio.set(23, 1); // active from 9 s, across the 10 s boundary until 12 s
    await vi.advanceTimersByTimeAsync(3_000);
    gpio.set(23, 0);
    await vi.advanceTimersByTimeAsync(8_000);
    expect(at('presence.activeMs').map((r) => r.value)).toEqual([4_000, 2_000]);
    expect(at('presence.occupancy').map((r) => r.value)).toEqual([40, 20]);
    expect(at('presence.activeMs')[0]).toMatchObject({ unit: 'ms', quality: 'good' });
  });

  it('stop() flushes the partial interval, then emits nothing', async () => {
    await startWith([{ name: 'presence', pin: 23, mode: 'duration', debounceMs: 0, intervalMs: 60_000 }]);
    gpio.set(23, 1);
    await vi.advanceTimersByTimeAsync(1_500);
    await driver!.stop();
    expect(at('presence.activeMs')).toEqual([
      expect.objectContaining({ value: 1_500, attrs: { intervalMs: 1_500 } }),
    ]);
    const n = readings.length;
    gpio.set(23, 0);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(readings).toHaveLength(n);
    expect(gpio.claimed(23)).toBe(false);
    expect(driver!.status().state).toBe('stopped');
  });
});

describe('gpio interval readings handed over packed', () => {
  /** Two vehicles and some presence per interval over six intervals, a fault in the third; returns the driver's emits. */
  async function run(packed: boolean) {
    vi.setSystemTime(T0);
    const pins = new FakeGpio();
    const rec = recordingContext('cabinet-io', { packed });
    const cfg = gpioDeviceSchema.parse({
      id: 'cabinet-io',
      type: 'gpio',
      inputs: [
        { name: 'loop1', pin: 17, mode: 'counter', debounceMs: 0, intervalMs: 5_000 },
        { name: 'bay', pin: 23, mode: 'duration', debounceMs: 0, intervalMs: 5_000 },
        { name: 'door', pin: 5, debounceMs: 0 },
      ],
    });
    const d = gpioDriverFactory({ pinSource: pins, reconcileMs: 1000, retryMs: 2000 })(cfg, rec.ctx);
    await d.start();
    for (let i = 0; i < 6; i++) {
      if (i === 2) pins.breakAll();
      if (i === 3) pins.heal();
      for (let v = 0; v < 2; v++) {
        pins.set(17, 1);
        pins.set(23, 1);
        await vi.advanceTimersByTimeAsync(700);
        pins.set(17, 0);
        await vi.advanceTimersByTimeAsync(300);
        pins.set(23, 0);
      }
      pins.set(5, i % 2 === 0 ? 0 : 1);
      await vi.advanceTimersByTimeAsync(3_000);
    }
    await d.stop();
    return rec;
  }

  it('gives the same readings as the plain path, the good full intervals as v2 poll records', async () => {
    const plain = await run(false);
    const packed = await run(true);
    const wire = (rec: typeof plain) => rec.readings().map((r) => encodeReading({ ...r, device: 'cabinet-io' }, 1, false));
    expect(plain.packedBatches()).toBe(0);
    expect(wire(packed)).toEqual(wire(plain));
    expect(packed.packedBatches()).toBeGreaterThan(0);

    const v2 = publishedBatch(packed.committed(), 2);
    const layouts = v2.raw.layouts ?? {};
    const records = pollRecords(v2).map((r) => ({ points: layouts[r.layout as string]!.points, values: r.values }));
    // Every good, whole interval of both inputs is a record; a first or last partial interval, a
    // bad or uncertain one and the door's events are plain readings.
    const goodWhole = plain.readings().filter((r) => r.quality === 'good' && r.kind === 'telemetry' && r.attrs === undefined);
    expect(records.flatMap((r) => r.points)).toEqual(goodWhole.map((r) => r.point));
    expect(records.flatMap((r) => r.values)).toEqual(goodWhole.map((r) => r.value));
    expect(records.filter((r) => r.points[0] === 'loop1.count').length).toBeGreaterThanOrEqual(2);
    expect(['bad', 'uncertain'].every((q) => plain.readings().some((r) => r.point === 'loop1.count' && r.quality === q))).toBe(true);
    expect(Object.values(layouts).find((l) => l.points[0] === 'bay.activeMs')?.units).toEqual(['ms', '%']);
    expect(v2.readings).toEqual(publishedBatch(packed.committed(), 1).readings);
  });
});

describe('gpio open failures', () => {
  it('a busy pin leaves the device degraded with the pin named, the others running, and is retried', async () => {
    gpio.setBusy(4, true);
    const d = await startWith(
      [
        { name: 'onewire-clash', pin: 4 },
        { name: 'door', pin: 5 },
      ],
      { retryMs: 2_000 },
    );
    const st = d.status();
    expect(st.state).toBe('degraded');
    expect(st.lastError?.code).toBe('GPIO_BUSY');
    const detail = st.detail?.inputs as Record<string, { state: string; error?: { code: string; message: string } }>;
    expect(detail['onewire-clash']!.error!.message).toMatch(/input "onewire-clash" \(BCM 4\).*busy/);
    expect(detail.door!.state).toBe('ok');

    gpio.setBusy(4, false);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(d.status().state).toBe('ok');
    expect(at('onewire-clash')).toHaveLength(1); // initial level once recovered
  });

  it('GPIO missing altogether: start() resolves, status down with GPIO_UNAVAILABLE', async () => {
    gpio.breakAll('GPIO_UNAVAILABLE');
    const d = await startWith([{ name: 'door', pin: 5 }]);
    expect(d.status()).toMatchObject({ state: 'down', lastError: { code: 'GPIO_UNAVAILABLE' }, lastGoodTs: null });
  });
});

describe('gpio schema', () => {
  it('rejects duplicate pins, intervalMs on state inputs and unknown keys', () => {
    const msg = (inputs: unknown[], extra = {}) =>
      gpioDeviceSchema.safeParse({ id: 'x', type: 'gpio', inputs, ...extra }).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    expect(msg([{ name: 'a', pin: 4 }, { name: 'b', pin: 4 }])).toMatch(/inputs.1.pin: pin 4 is already used by input "a"/);
    expect(msg([{ name: 'a', pin: 4, intervalMs: 1000 }])).toMatch(/intervalMs only applies/);
    expect(msg([{ name: 'a', pin: 4, pull: 'up' }])).toMatch(/pull/);
    expect(msg([{ name: 'a', pin: 4 }], { gpiochip: 'x' })).toMatch(/gpiochip/);
    expect(msg([{ name: 'a', pin: 4 }])).toBeUndefined();
  });
});
