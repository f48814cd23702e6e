import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { PI5_CHIPS, writeSysfsTree } from '../../test-rigs/fake-gpio/sysfs-tree.js';
import { GpioError } from './errors.js';

const require = createRequire(import.meta.url);
const onoffLoaded = () => Object.keys(require.cache).some((k) => k.includes(`${path.sep}node_modules${path.sep}onoff${path.sep}`));
const log = pino({ level: 'silent' });
const tmp = mkdtempSync(path.join(os.tmpdir(), 'gpio-onoff-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function openError(p: Promise<unknown>): Promise<GpioError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(GpioError);
    return err as GpioError;
  }
  throw new Error('expected open() to fail');
}

// The real onoff-backed source, on whatever this machine is. On a CI box or laptop there is no
// GPIO: that must be a clear GPIO_UNAVAILABLE naming the input, never a crash.
describe('onoff pin source (real code path)', () => {
  it('loading the registry entry and the driver does not load onoff (native epoll)', async () => {
    await import('./module.js');
    const { createGpioDriver } = await import('./driver.js');
    createGpioDriver(
      { id: 'x', type: 'gpio', enabled: true, sysfsRoot: path.join(tmp, 'none'), inputs: [{ name: 'door', pin: 5, activeLow: false, debounceMs: 20, mode: 'state' }], outputs: [] },
      { deviceId: 'x', log, emit: () => {} },
    );
    expect(onoffLoaded()).toBe(false);
  });

  it('no sysfs GPIO at all -> GPIO_UNAVAILABLE naming the input and pin', async () => {
    const { onoffPinSource } = await import('./onoff-source.js');
    const src = onoffPinSource({ sysfsRoot: path.join(tmp, 'absent'), log });
    const err = await openError(src.open(17, 'loop1'));
    expect(err.code).toBe('GPIO_UNAVAILABLE');
    expect(err.message).toMatch(/input "loop1" \(BCM 17\).*export does not exist.*not a Raspberry Pi/);
    expect(onoffLoaded()).toBe(false);
  });

  it('chip lookup runs against the tree; onoff is loaded only then and reports its own view', async () => {
    const { onoffPinSource } = await import('./onoff-source.js');
    const root = writeSysfsTree(path.join(tmp, 'pi5'), PI5_CHIPS);
    const wrongChip = onoffPinSource({ sysfsRoot: root, chip: 'pinctrl-bcm2711', log });
    expect((await openError(wrongChip.open(17, 'loop1'))).code).toBe('GPIO_CHIP_NOT_FOUND');
    expect(onoffLoaded()).toBe(false);

    const src = onoffPinSource({ sysfsRoot: root, log });
    const err = await openError(src.open(17, 'loop1'));
    expect(onoffLoaded()).toBe(true);
    if (existsSync('/sys/class/gpio/export')) {
      // On a real Pi the tree above is fiction; whatever happens, it must be a coded GpioError.
      expect(err.code).toMatch(/^GPIO_/);
    } else {
      expect(err.code).toBe('GPIO_UNAVAILABLE');
      expect(err.message).toMatch(/input "loop1" \(BCM 17\)/);
    }
  });
});
