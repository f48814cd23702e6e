import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { SiteConfig } from '../config/gateway-schema.js';

/**
 * Who is speaking on the wire, fixed for one process: `bootId` is new at every start, so a
 * consumer can tell a gateway that restarted (new bootId; its health counters restart) from one
 * whose broker link dropped (same bootId). Carried by status and health (docs/payload.md).
 */
export interface WireIdentity {
  bootId: string;
  /** ms since the Unix epoch, when this process started. */
  startedAt: number;
  /** The edge-gateway package version. */
  version: string;
  site?: SiteConfig;
}

/** The package's own version: package.json sits two levels above gateway/forwarder/, three above dist/gateway/forwarder/. */
export function packageVersion(): string {
  for (const up of ['../..', '../../..']) {
    const file = path.join(import.meta.dirname, up, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'edge-gateway' && typeof pkg.version === 'string') return pkg.version;
  }
  return 'unknown';
}

export function processIdentity(site?: SiteConfig, now = Date.now()): WireIdentity {
  return { bootId: randomUUID(), startedAt: now, version: packageVersion(), ...(site ? { site } : {}) };
}
