import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import type { DeviceConfig } from '../../../drivers/registry.js';
import { errnoOf, type CheckResult } from './check.js';

/**
 * Every device file a driver will open (serial ports, evdev inputs, the GPIO sysfs tree) exists
 * and is accessible. Checked with access(2) only — never opened — so a running daemon holding a
 * port is not disturbed. The answer is for the user running doctor, which is said in the output.
 */

interface DevicePath {
  device: string;
  path: string;
  mode: number;
  what: string;
  /** The group that usually grants access on Debian / Raspberry Pi OS. */
  group: string;
}

export function devicePaths(devices: readonly DeviceConfig[]): DevicePath[] {
  const out: DevicePath[] = [];
  for (const d of devices) {
    if (!d.enabled) continue;
    switch (d.type) {
      case 'serial-line':
      case 'barcode-serial':
        out.push({ device: d.id, path: d.port.path, mode: constants.R_OK | constants.W_OK, what: 'serial port', group: 'dialout' });
        break;
      case 'barcode-evdev':
        out.push({ device: d.id, path: d.path, mode: constants.R_OK, what: 'input device', group: 'input' });
        break;
      case 'gpio':
        // onoff exports pins by writing to <sysfs>/export.
        out.push({ device: d.id, path: join(d.sysfsRoot, 'export'), mode: constants.W_OK, what: 'GPIO sysfs export', group: 'gpio' });
        break;
      default:
        break;
    }
  }
  return out;
}

export function checkDevicePaths(devices: readonly DeviceConfig[]): CheckResult[] {
  const user = userInfo().username;
  return devicePaths(devices).map((p): CheckResult => {
    const base = { id: `path:${p.device}`, title: `${p.device}: ${p.what} ${p.path}` };
    try {
      accessSync(p.path, p.mode);
      const kind = statSync(p.path).isCharacterDevice() ? 'character device' : 'file';
      return { ...base, status: 'pass', detail: `present (${kind}) and ${p.mode & constants.W_OK ? (p.mode & constants.R_OK ? 'readable/writable' : 'writable') : 'readable'} by ${user}` };
    } catch (err) {
      const code = errnoOf(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        const hint =
          p.group === 'dialout'
            ? 'is the USB adapter plugged in? list candidates with: ls -l /dev/serial/by-id/'
            : p.group === 'input'
              ? 'is the scanner plugged in? list candidates with: ls -l /dev/input/by-id/'
              : 'is this a Raspberry Pi with the GPIO sysfs interface enabled?';
        return { ...base, status: 'fail', detail: 'not found', advice: `${hint}; then fix the path in devices/${p.device}.yaml` };
      }
      if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
        return {
          ...base,
          status: 'fail',
          detail: `permission denied for ${user} (${code})`,
          advice: `add the user that runs edge-gateway to the '${p.group}' group (sudo usermod -aG ${p.group} <user>) and restart the service; run doctor as that user to check`,
        };
      }
      return { ...base, status: 'fail', detail: `cannot access: ${(err as Error).message}`, advice: 'check the path and its permissions' };
    }
  });
}
