import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PI3_CHIPS_6_6, PI4_CHIPS_6_6, PI4_CHIPS_OLD, PI5_CHIPS, writeSysfsTree } from '../../test-rigs/fake-gpio/sysfs-tree.js';
import { listGpioChips, resolveSysfsPin } from './chip.js';
import { GpioError } from './errors.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'gpio-chip-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const tree = (name: string, chips: Parameters<typeof writeSysfsTree>[1]) => listGpioChips(writeSysfsTree(path.join(tmp, name), chips));

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GpioError);
    return `${(err as GpioError).code}: ${(err as Error).message}`;
  }
  throw new Error('expected a GpioError');
}

describe('BCM pin -> sysfs number from gpiochip entries', () => {
  it('Pi 5 (kernel 6.6+): picks pinctrl-rp1 among the brcmstb chips, offset 571', () => {
    const chips = tree('pi5', PI5_CHIPS);
    expect(chips.map((c) => c.name)).toEqual(['gpiochip512', 'gpiochip544', 'gpiochip571']);
    expect(resolveSysfsPin(chips, 17)).toMatchObject({ sysfs: 588, chip: { label: 'pinctrl-rp1' } });
    expect(resolveSysfsPin(chips, 0).sysfs).toBe(571);
  });

  it('Pi 4 with kernel 6.6 (base 512) and before (base 0)', () => {
    expect(resolveSysfsPin(tree('pi4new', PI4_CHIPS_6_6), 27).sysfs).toBe(539);
    expect(resolveSysfsPin(tree('pi4old', PI4_CHIPS_OLD), 27).sysfs).toBe(27);
  });

  it('Pi 3 / Zero 2 (bcm2835) and an explicit chip label', () => {
    const chips = tree('pi3', PI3_CHIPS_6_6);
    expect(resolveSysfsPin(chips, 4).sysfs).toBe(516);
    expect(resolveSysfsPin(tree('pi4x', PI4_CHIPS_6_6), 3, 'raspberrypi-exp-gpio').sysfs).toBe(573);
  });

  it('explains what is missing', () => {
    expect(listGpioChips(path.join(tmp, 'does-not-exist'))).toEqual([]);
    expect(codeOf(() => resolveSysfsPin([], 17))).toMatch(/^GPIO_UNAVAILABLE: BCM 17: no gpiochip/);
    expect(codeOf(() => resolveSysfsPin(tree('other', [{ label: 'gpio-mockup-A', base: 0, ngpio: 8 }]), 17))).toMatch(
      /^GPIO_CHIP_NOT_FOUND: .*gpiochip0="gpio-mockup-A".*set "chip"/,
    );
    expect(codeOf(() => resolveSysfsPin(tree('pi5b', PI5_CHIPS), 54))).toMatch(/^GPIO_INVALID_PIN: BCM 54: gpiochip571 .* 54 lines/);
    expect(codeOf(() => resolveSysfsPin(tree('pi5c', PI5_CHIPS), 4, 'pinctrl-bcm2711'))).toMatch(/^GPIO_CHIP_NOT_FOUND/);
  });
});
