import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface FakeChip {
  label: string;
  base: number;
  ngpio: number;
}

/** Chip layouts as seen on real boards (kernel 6.6+ numbering, then the pre-6.6 Pi 4 layout). */
export const PI5_CHIPS: FakeChip[] = [
  { label: 'gpio-brcmstb@107d508500', base: 512, ngpio: 32 },
  { label: 'gpio-brcmstb@107d508520', base: 544, ngpio: 15 },
  { label: 'pinctrl-rp1', base: 571, ngpio: 54 },
];
export const PI4_CHIPS_6_6: FakeChip[] = [
  { label: 'pinctrl-bcm2711', base: 512, ngpio: 58 },
  { label: 'raspberrypi-exp-gpio', base: 570, ngpio: 8 },
];
export const PI4_CHIPS_OLD: FakeChip[] = [
  { label: 'pinctrl-bcm2711', base: 0, ngpio: 58 },
  { label: 'raspberrypi-exp-gpio', base: 504, ngpio: 8 },
];
export const PI3_CHIPS_6_6: FakeChip[] = [{ label: 'pinctrl-bcm2835', base: 512, ngpio: 54 }];

/** Lay out `<root>/gpiochipN/{label,base,ngpio}` (+ an `export` file) like /sys/class/gpio. */
export function writeSysfsTree(root: string, chips: FakeChip[], opts: { exportFile?: boolean } = {}): string {
  mkdirSync(root, { recursive: true });
  if (opts.exportFile ?? true) writeFileSync(path.join(root, 'export'), '');
  for (const c of chips) {
    const dir = path.join(root, `gpiochip${c.base}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'label'), `${c.label}\n`);
    writeFileSync(path.join(dir, 'base'), `${c.base}\n`);
    writeFileSync(path.join(dir, 'ngpio'), `${c.ngpio}\n`);
  }
  return root;
}
