import { existsSync } from 'node:fs';
import { dirname } from 'node:path';

/** The packaged control socket's directory, which systemd's RuntimeDirectory= creates. */
const PACKAGED_RUNTIME_DIR = '/run/edge-gateway';

/**
 * What to do when the control socket's directory is missing. systemd creates /run/edge-gateway
 * (RuntimeDirectory=) for the unit and removes it when the unit stops, so a daemon started by
 * hand after `systemctl stop`, or on a box without systemd (container, chroot), finds none, and
 * the service user may not create it under /run. Returns '' when the directory exists.
 */
export function socketDirectoryAdvice(socketPath: string, prefix = ''): string {
  const dir = dirname(socketPath);
  if (existsSync(dir)) return '';
  const create =
    dir === PACKAGED_RUNTIME_DIR
      ? `sudo install -d -o edge-gateway -g edge-gateway-ops -m 2750 ${dir}`
      : `create ${dir}, writable by the user the gateway runs as`;
  return `${prefix}${dir} does not exist. Under systemd it exists while the unit runs (systemctl start edge-gateway). For a gateway run by hand (no systemd, or after systemctl stop): ${create}, then restart the gateway; or set control.socket in gateway.yaml to a writable place`;
}
