import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeGpio } from '../../test-rigs/fake-gpio/fake-pins.js';
import type { Driver } from '../driver.js';
import { WriteRefused } from '../writable-point.js';
import { gpioDriverFactory } from './driver.js';
import { gpioDriver } from './module.js';
import { gpioDeviceSchema } from './schema.js';

// Outputs through the real driver and output logic; only the lines are fake (test-rigs/fake-gpio).
const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);
let gpio: FakeGpio;
let driver: Driver | null;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  vi.setSystemTime(T0);
  gpio = new FakeGpio();
  driver = null;
});
afterEach(async () => {
  await driver?.stop();
  vi.useRealTimers();
});

function config(outputs: unknown[]) {
  return gpioDeviceSchema.parse({ id: 'exit-barrier', type: 'gpio', outputs });
}

async function start(outputs: unknown[]) {
  driver = gpioDriverFactory({ pinSource: gpio, reconcileMs: 1000, retryMs: 5000 })(config(outputs), { deviceId: 'exit-barrier', log: pino({ level: 'silent' }), emit: () => {} });
  await driver.start();
  return driver;
}

const levels = (pin: number) => gpio.driven(pin).map((d) => [d.level, d.ms - T0]);

describe('gpio outputs', () => {
  it('drives the declared initial level at start, and the shutdown level at stop', async () => {
    const d = await start([{ name: 'gate', pin: 23, activeLow: true, initial: 'inactive', atShutdown: 'inactive' }]);
    expect(gpio.level(23)).toBe(1); // activeLow: inactive = high
    await d.write!('gate', { action: 'write', value: true });
    expect(gpio.level(23)).toBe(0);
    await d.stop();
    driver = null;
    expect(levels(23)).toEqual([[1, 0], [0, 0], [1, 0]]);
    expect(gpio.claimed(23)).toBe(false);
  });

  it('pulses active for exactly the duration, then inactive', async () => {
    const d = await start([{ name: 'gate', pin: 23, pulse: { minMs: 100, maxMs: 5000, defaultMs: 800 }, pulseOnly: true }]);
    const done = d.write!('gate', { action: 'pulse', durationMs: 800 });
    await vi.advanceTimersByTimeAsync(799);
    expect(gpio.level(23)).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await expect(done).resolves.toEqual({});
    expect(levels(23)).toEqual([[0, 0], [1, 0], [0, 800]]);
  });

  it('a stop in the middle of a pulse ends it at the shutdown level at once', async () => {
    const d = await start([{ name: 'gate', pin: 23, pulse: {} }]);
    const done = d.write!('gate', { action: 'pulse', durationMs: 5000 });
    await vi.advanceTimersByTimeAsync(300);
    await d.stop();
    driver = null;
    await expect(done).rejects.toMatchObject({ code: 'PULSE_CUT_SHORT', message: expect.stringMatching(/cut short after 300 of 5000 ms/) });
    expect(levels(23)).toEqual([[0, 0], [1, 0], [0, 300]]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(levels(23)).toHaveLength(3); // the pulse's own end wrote nothing after the stop
  });

  it('reads the line back after a write; a line that does not follow is seen', async () => {
    const d = await start([{ name: 'lamp', pin: 24 }]);
    expect(await d.write!('lamp', { action: 'write', value: true })).toEqual({ readBack: true, expected: true });
    gpio.stuckAt(24, 0);
    expect(await d.write!('lamp', { action: 'write', value: true })).toEqual({ readBack: false, expected: true });
  });

  it('refuses an undeclared point and reports a busy line in status, with a coded error on write', async () => {
    gpio.setBusy(25, true);
    const d = await start([{ name: 'lamp', pin: 25 }]);
    await expect(d.write!('nosuch', { action: 'write', value: true })).rejects.toBeInstanceOf(WriteRefused);
    expect(d.status()).toMatchObject({ state: 'down', detail: { outputs: { lamp: { state: 'error', error: { code: 'GPIO_BUSY' } } } } });
    await expect(d.write!('lamp', { action: 'write', value: true })).rejects.toMatchObject({ code: 'GPIO_BUSY' });
  });

  it('declares its outputs to the command channel with their actions and policy', () => {
    const points = gpioDriver.writablePoints(config([
      { name: 'gate', pin: 23, pulse: { defaultMs: 600 }, pulseOnly: true, minInterval: 2000 },
      { name: 'lamp', pin: 24, requireSignature: false },
    ]));
    expect(points.map((p) => [p.policy.name, p.actions, p.pulse?.defaultMs, p.policy.minInterval, p.policy.requireSignature])).toEqual([
      ['gate', ['pulse'], 600, 2000, true],
      ['lamp', ['write'], undefined, 1000, false],
    ]);
  });

  it('refuses configs that would be unsafe or ambiguous', () => {
    const bad = (outputs: unknown[], inputs: unknown[] = []) => gpioDeviceSchema.safeParse({ id: 'x', type: 'gpio', inputs, outputs }).error?.issues.map((i) => i.message).join('; ');
    expect(bad([{ name: 'gate', pin: 23, pulseOnly: true }])).toMatch(/pulseOnly needs pulse/);
    expect(bad([{ name: 'gate', pin: 5 }], [{ name: 'door', pin: 5 }])).toMatch(/pin 5 is already used by output "gate"/);
    expect(bad([{ name: 'gate', pin: 23, pulse: { minMs: 500, defaultMs: 100 } }])).toMatch(/minMs <= defaultMs <= maxMs/);
    expect(bad([])).toMatch(/at least one input or output/);
  });
});
