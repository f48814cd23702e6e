import { statfsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { GatewayConfig } from '../../config/load.js';
import { formatBytes } from '../terminal.js';
import { errnoOf, type CheckResult } from './check.js';

/** Room for the outbox to grow to its retention limit, on the filesystem that holds it. */
export function checkDisk(config: GatewayConfig): CheckResult {
  const path = config.gateway.outbox.path;
  const maxBytes = config.gateway.outbox.retention.maxBytes;
  const base = { id: 'disk', title: `disk space for the outbox (${dirname(path)})` };
  let used = 0;
  for (const suffix of ['', '-wal']) {
    try {
      used += statSync(path + suffix).size;
    } catch {
      // not created yet
    }
  }
  let free: number;
  try {
    const fs = statfsSync(existingDir(path));
    free = fs.bavail * fs.bsize;
  } catch (err) {
    return { ...base, status: 'fail', detail: `cannot stat the filesystem: ${errnoOf(err) ?? (err as Error).message}`, advice: 'check that the outbox directory exists and is readable' };
  }
  const needed = Math.max(0, maxBytes - used);
  // As the maintainer wrote it (512MB), not converted (488 MiB): that is what they look for in the file.
  const written = config.written?.['outbox.retention.maxBytes'];
  const limit = written !== undefined && written !== formatBytes(maxBytes) ? `${written} (${formatBytes(maxBytes)})` : formatBytes(maxBytes);
  const detail = `${formatBytes(free)} free; outbox uses ${formatBytes(used)} of retention.maxBytes ${limit}`;
  if (free < 16 * 1024 * 1024) {
    return { ...base, status: 'fail', detail, advice: 'the disk is nearly full: new readings will be refused. Free space (journalctl --vacuum-size=50M, old logs) or move outbox.path' };
  }
  if (free < needed) {
    return { ...base, status: 'warn', detail, advice: `during a long outage the outbox can grow by ${formatBytes(needed)} more than there is room for: free space or lower outbox.retention.maxBytes` };
  }
  return { ...base, status: 'pass', detail };
}

/** statfs needs an existing path; before the first start only some parent exists. */
function existingDir(path: string): string {
  let dir = dirname(path);
  for (;;) {
    try {
      statSync(dir);
      return dir;
    } catch {
      const up = dirname(dir);
      if (up === dir) return dir;
      dir = up;
    }
  }
}
