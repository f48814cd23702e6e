import { readFileSync } from 'node:fs';
import type { FakeChip } from './sysfs-tree.js';

/**
 * A real daemon driving GPIO outputs through onoff, on a machine without GPIO: the daemon runs in
 * its own mount namespace (unshare, as root) with a tmpfs over /sys/class holding a fake
 * /sys/class/gpio: gpiochip entries and the lines already exported (gpioN/{direction,value,edge,
 * active_low}), since nothing here turns a write to `export` into a directory. onoff then opens,
 * configures and writes those files exactly as on a Pi. The test reads what the daemon drove
 * through /proc/<pid>/root, which resolves paths in the daemon's namespace.
 */
export function gpioNamespaceWrapper(chips: readonly FakeChip[], exported: readonly number[]): string[] {
  const lines = [
    'set -e',
    'mount -t tmpfs -o mode=0755 edge-gateway-fake-gpio /sys/class',
    'mkdir -p /sys/class/gpio',
    ': > /sys/class/gpio/export',
    ': > /sys/class/gpio/unexport',
    ...chips.flatMap((c) => [
      `mkdir -p /sys/class/gpio/gpiochip${c.base}`,
      `echo '${c.label}' > /sys/class/gpio/gpiochip${c.base}/label`,
      `echo ${c.base} > /sys/class/gpio/gpiochip${c.base}/base`,
      `echo ${c.ngpio} > /sys/class/gpio/gpiochip${c.base}/ngpio`,
    ]),
    ...exported.flatMap((n) => [
      `mkdir -p /sys/class/gpio/gpio${n}`,
      `echo in > /sys/class/gpio/gpio${n}/direction`,
      `echo 0 > /sys/class/gpio/gpio${n}/value`,
      `echo none > /sys/class/gpio/gpio${n}/edge`,
      `echo 0 > /sys/class/gpio/gpio${n}/active_low`,
    ]),
    'exec "$@"',
  ];
  return ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', lines.join('\n'), 'fake-gpio'];
}

/** What the daemon (pid) last wrote to a line's file, e.g. value or direction. */
export function readGpioFile(pid: number, sysfs: number, file: 'value' | 'direction'): string {
  return readFileSync(`/proc/${pid}/root/sys/class/gpio/gpio${sysfs}/${file}`, 'utf8').trim();
}
