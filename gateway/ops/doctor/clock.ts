import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import pino from 'pino';
import { ClockWatch } from '../../clock.js';
import type { GatewayConfig } from '../../config/load.js';
import type { CheckResult } from './check.js';

/** The daemon's own verdict (ClockWatch), so doctor and the readings' clock flag never disagree. */
export function checkClock(config: GatewayConfig): CheckResult {
  const c = config.gateway.clock;
  const watch = new ClockWatch({ syncCheck: c.syncCheck, syncedFile: c.syncedFile, jumpThresholdMs: c.jumpThreshold, log: pino({ level: 'silent' }) });
  const base = { id: 'clock', title: 'system clock synchronised' };
  const now = new Date().toISOString();
  if (c.syncCheck === 'none') return { ...base, status: 'pass', detail: `not checked (clock.syncCheck: none); clock reads ${now}` };
  if (c.syncCheck === 'auto' && !existsSync(dirname(c.syncedFile))) {
    return { ...base, status: 'warn', detail: `no timesyncd state in ${dirname(c.syncedFile)}: the gateway trusts the clock as is (${now})`, advice: 'if this box has no RTC, enable systemd-timesyncd (timedatectl set-ntp true) or set clock.syncCheck/syncedFile for your NTP daemon' };
  }
  if (watch.isSynced()) return { ...base, status: 'pass', detail: `${c.syncedFile} present; clock reads ${now}` };
  return {
    ...base,
    status: 'fail',
    detail: `${c.syncedFile} missing: not synchronised yet (clock reads ${now}); readings are flagged clock=unsynced`,
    advice: 'check NTP: systemctl status systemd-timesyncd, and that UDP 123 to the configured NTP servers is allowed',
  };
}
