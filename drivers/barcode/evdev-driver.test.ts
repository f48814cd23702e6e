import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FifoDevice } from '../../test-rigs/evdev/fifo-device.js';
import { altKeypad, encodeEvents, scanBytes, typeText } from '../../test-rigs/evdev/input-events.js';
import { capturingContext } from '../../test-rigs/serial/capture-context.js';
import { waitUntil } from '../../test-rigs/serial/wait-until.js';
import type { Driver } from '../driver.js';
import { grabHelperOpener } from './evdev/grab-helper.js';
import { createBarcodeEvdevDriver } from './evdev-driver.js';
import { barcodeEvdevDeviceSchema } from './schema.js';

const reopen = { initialDelayMs: 20, maxDelayMs: 200, watchIntervalMs: 50 };

describe('barcode-evdev through a FIFO carrying real input_event records', () => {
  let dir: string;
  let dev: FifoDevice;
  let driver: Driver | null = null;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edge-evdev-'));
    dev = new FifoDevice(join(dir, 'usb-Scanner-event-kbd'));
    await dev.plug();
  });

  afterEach(async () => {
    await dev.unplug();
    await driver?.stop();
    driver = null;
    await rm(dir, { recursive: true, force: true });
  });

  it('decodes scans split across reads, suppresses the held ticket, and recovers from an unplug', async () => {
    const cfg = barcodeEvdevDeviceSchema.parse({
      id: 'gate-s-exit',
      type: 'barcode-evdev',
      path: dev.path,
      eventLayout: '64bit',
      reopen,
      site: 'P3',
      gate: 'south',
      direction: 'exit',
      validate: { pattern: '^T\\d{6}$' },
    });
    const ctx = capturingContext('gate-s-exit');
    driver = createBarcodeEvdevDriver(cfg, ctx);
    const started = driver.start();
    // Odd chunk sizes: every record boundary lands mid-write somewhere.
    await dev.write(scanBytes(']Q1T123456', '64bit'), { chunkSizes: [7, 13, 24, 5] });
    await started;
    await dev.write(Buffer.concat([scanBytes('T123456', '64bit'), scanBytes('T123456', '64bit')]));
    await dev.write(scanBytes('t-99', '64bit'));
    await dev.write(encodeEvents([...typeText('GS', { terminator: 'none' }), ...altKeypad(29), ...typeText('1')], '64bit'));
    await waitUntil(() => ctx.readings.length === 3, 5_000, 'three scan events');

    expect(ctx.readings.map((r) => [r.value, r.attrs?.valid])).toEqual([
      ['T123456', true],
      ['t-99', false],
      ['GS\x1d1', false],
    ]);
    expect(ctx.readings[0]).toMatchObject({ kind: 'event', point: 'scan', attrs: { symbology: 'qr', gate: 'south', direction: 'exit' } });
    expect(driver.status()).toMatchObject({ state: 'ok', counters: { scans: 3, duplicatesSuppressed: 2, opens: 1 } });

    await dev.unplug();
    await waitUntil(() => driver!.status().state === 'down', 5_000, 'down after unplug');
    expect(driver.status().lastError?.code).toMatch(/^EVDEV_(UNPLUGGED|NOT_FOUND)$/);
    await dev.plug();
    await dev.write(scanBytes('T654321', '64bit'));
    await waitUntil(() => ctx.readings.length === 4, 5_000, 'scan after replug');
    expect(ctx.readings[3]?.value).toBe('T654321');
    expect(driver.status().counters).toMatchObject({ reopens: 1, unplugs: 1 });
  });

  it('reads the 32-bit record layout', async () => {
    const cfg = barcodeEvdevDeviceSchema.parse({ id: 'pi32', type: 'barcode-evdev', path: dev.path, eventLayout: '32bit', reopen });
    const ctx = capturingContext('pi32');
    driver = createBarcodeEvdevDriver(cfg, ctx);
    const started = driver.start();
    await dev.write(scanBytes('Ab9:', '32bit', { terminator: 'kpenter' }), { chunkSizes: [3, 16, 9] });
    await started;
    await waitUntil(() => ctx.readings.length === 1, 5_000, 'one scan');
    expect(ctx.readings[0]?.value).toBe('Ab9:');
  });

  it('reports a missing device plainly', async () => {
    const cfg = barcodeEvdevDeviceSchema.parse({ id: 'gone', type: 'barcode-evdev', path: join(dir, 'nope'), reopen });
    driver = createBarcodeEvdevDriver(cfg, capturingContext('gone'));
    await driver.start();
    expect(driver.status()).toMatchObject({
      state: 'down',
      lastError: { code: 'EVDEV_NOT_FOUND', message: `input device ${join(dir, 'nope')} not found (is the scanner plugged in?)` },
    });
  });
});

describe('EVIOCGRAB helper (python3)', () => {
  let dir: string;
  let dev: FifoDevice;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edge-grab-'));
    dev = new FifoDevice(join(dir, 'event-kbd'));
    await dev.plug();
  });
  afterEach(async () => {
    await dev.unplug();
    await rm(dir, { recursive: true, force: true });
  });

  it('relays raw records unchanged through the helper process', async () => {
    const chunks: Buffer[] = [];
    const opening = grabHelperOpener({ python: 'python3', grab: false })(dev.path, { data: (c) => chunks.push(c), lost: () => undefined });
    const bytes = scanBytes('RELAY-1', '64bit');
    await dev.write(bytes);
    const handle = await opening;
    await waitUntil(() => Buffer.concat(chunks).length === bytes.length, 5_000, 'relayed bytes');
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
    await handle.close();
  });

  it('a device that cannot be grabbed fails with EVDEV_GRAB_FAILED and a way out', async () => {
    const opening = grabHelperOpener({ python: 'python3', grab: true })(dev.path, { data: () => undefined, lost: () => undefined });
    await dev.write(Buffer.alloc(0));
    await expect(opening).rejects.toMatchObject({
      code: 'EVDEV_GRAB_FAILED',
      message: expect.stringMatching(/cannot grab .* not an input event device \(ENOTTY\); set grab: false/),
    });
  });

  it('a missing python is a clear EVDEV_HELPER_FAILED', async () => {
    await expect(
      grabHelperOpener({ python: '/nonexistent/python3', grab: true })(dev.path, { data: () => undefined, lost: () => undefined }),
    ).rejects.toMatchObject({ code: 'EVDEV_HELPER_FAILED', message: expect.stringMatching(/grab: true needs python3/) });
  });
});
