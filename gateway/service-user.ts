import { readFileSync } from 'node:fs';

/** The system user the packaged unit runs the daemon as (systemd/edge-gateway.service, User=). */
export const SERVICE_USER = 'edge-gateway';

/**
 * `sudo edge-gateway run` on a box where the service is installed creates (or takes over) the
 * outbox, its WAL and reserve as root; the service, running as edge-gateway, then cannot open
 * its own backlog. A warning scrolls past on a technician's terminal while the damage is done,
 * so `run` refuses instead, says how to run it properly, and offers --allow-root for the rare
 * box that is meant to run as root. Returns the refusal message, or null when running is fine.
 */
export function rootRunRefusal(uid: number, passwd: string, allowRoot: boolean): string | null {
  if (uid !== 0 || allowRoot) return null;
  const exists = passwd.split('\n').some((line) => line.startsWith(`${SERVICE_USER}:`));
  if (!exists) return null;
  return (
    `refusing to run as root: the service user ${SERVICE_USER} exists, and files created now (outbox, ` +
    `its -wal/-shm and reserve, the control socket) would be owned by root, so the service could no longer ` +
    `open them. Use "systemctl start edge-gateway", or run it as the service user: ` +
    `sudo -u ${SERVICE_USER} edge-gateway run -c DIR. If this box is meant to run it as root, pass --allow-root.`
  );
}

export function readPasswd(): string {
  try {
    return readFileSync('/etc/passwd', 'utf8');
  } catch {
    return '';
  }
}
