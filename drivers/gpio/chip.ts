import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { GpioError } from './errors.js';

export interface GpioChip {
  /** Directory name under the sysfs root, e.g. gpiochip571. */
  name: string;
  label: string;
  base: number;
  ngpio: number;
}

/**
 * gpiochip labels of the SoC GPIO block that carries the 40-pin header, newest first:
 * Pi 5 (RP1), Pi 4/400/CM4 (BCM2711), Pi 3/Zero 2 and older (BCM2835).
 */
export const KNOWN_PI_CHIP_LABELS = ['pinctrl-rp1', 'pinctrl-bcm2711', 'pinctrl-bcm2835'] as const;

/** Read every `gpiochip*` entry (label, base, ngpio) below `sysfsRoot`; [] when there is none. */
export function listGpioChips(sysfsRoot: string): GpioChip[] {
  let names: string[];
  try {
    names = readdirSync(sysfsRoot).filter((n) => /^gpiochip\d+$/.test(n));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const chips: GpioChip[] = [];
  for (const name of names) {
    const dir = path.join(sysfsRoot, name);
    const read = (f: string) => readFileSync(path.join(dir, f), 'utf8').trim();
    try {
      const base = Number(read('base'));
      const ngpio = Number(read('ngpio'));
      if (!Number.isInteger(base) || !Number.isInteger(ngpio)) continue;
      chips.push({ name, label: read('label'), base, ngpio });
    } catch {
      continue; // a half-populated chip entry is not one we can use
    }
  }
  return chips.sort((a, b) => a.base - b.base);
}

/**
 * Map a BCM pin to its sysfs GPIO number. Since kernel 6.6 sysfs numbers are offset by the chip
 * base (Pi 5: 571, Pi 4: 512), so "17" is no longer GPIO17; the base comes from the chip whose
 * label matches `chipLabel`, or else the first known Pi label present.
 */
export function resolveSysfsPin(chips: GpioChip[], bcm: number, chipLabel?: string): { sysfs: number; chip: GpioChip } {
  if (chips.length === 0) {
    throw new GpioError('GPIO_UNAVAILABLE', `BCM ${bcm}: no gpiochip found in sysfs: not a Raspberry Pi, or GPIO sysfs is disabled`);
  }
  const wanted = chipLabel ? [chipLabel] : KNOWN_PI_CHIP_LABELS;
  let chip: GpioChip | undefined;
  for (const label of wanted) {
    chip = chips.find((c) => c.label === label);
    if (chip) break;
  }
  if (!chip) {
    const seen = chips.map((c) => `${c.name}="${c.label}"`).join(', ');
    throw new GpioError(
      'GPIO_CHIP_NOT_FOUND',
      `BCM ${bcm}: no gpiochip labelled ${wanted.map((l) => `"${l}"`).join(' or ')} (found ${seen}); set "chip" to one of these labels`,
    );
  }
  if (bcm >= chip.ngpio) {
    throw new GpioError('GPIO_INVALID_PIN', `BCM ${bcm}: ${chip.name} ("${chip.label}") has only ${chip.ngpio} lines`);
  }
  return { sysfs: chip.base + bcm, chip };
}
