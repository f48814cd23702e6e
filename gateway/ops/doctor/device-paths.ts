import { accessSync, constants, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { DeviceFile } from '../../../drivers/driver-module.js';
import type { DeviceConfig } from '../../../drivers/registry.js';
import { openingsOf } from './device-openings.js';
import { errnoOf, type CheckResult } from './check.js';

/**
 * Every device file a driver will open (serial ports, evdev inputs, the GPIO sysfs tree) exists
 * and is accessible. Checked with access(2) only — never opened — so a running daemon holding a
 * port is not disturbed. The answer is for the user running doctor, which is said in the output.
 */

interface DevicePath extends DeviceFile {
  device: string;
  /** Unique per device file, for scripts: `path:<device>`, then `path:<device>:<path>` for any further file. */
  checkId: string;
}

/** Asks each device's family which files it opens, so no type is forgotten here. */
export function devicePaths(devices: readonly DeviceConfig[]): DevicePath[] {
  const out: DevicePath[] = [];
  for (const d of devices) {
    if (!d.enabled) continue;
    const files = openingsOf(d).filter((o): o is DeviceFile => o.kind === 'file');
    files.forEach((f, i) => out.push({ ...f, device: d.id, checkId: i === 0 ? `path:${d.id}` : `path:${d.id}:${f.path}` }));
  }
  return out;
}

export function checkDevicePaths(devices: readonly DeviceConfig[]): CheckResult[] {
  const user = userInfo().username;
  return devicePaths(devices).map((p): CheckResult => {
    const mode = p.access === 'read' ? constants.R_OK : p.access === 'write' ? constants.W_OK : constants.R_OK | constants.W_OK;
    const base = { id: p.checkId, title: `${p.device}: ${p.what} ${p.path}` };
    try {
      accessSync(p.path, mode);
      const kind = statSync(p.path).isCharacterDevice() ? 'character device' : 'file';
      return { ...base, status: 'pass', detail: `present (${kind}) and ${p.access === 'read-write' ? 'readable/writable' : p.access === 'write' ? 'writable' : 'readable'} by ${user}` };
    } catch (err) {
      const code = errnoOf(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        return { ...base, status: 'fail', detail: 'not found', advice: `${p.missingHint}; then fix the path in devices/${p.device}.yaml` };
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
