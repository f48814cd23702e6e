import { randomUUID } from 'node:crypto';
import type { SiteConfig } from '../config/gateway-schema.js';
import { versionInfo, type VersionInfo } from '../version.js';

/**
 * Who is speaking on the wire, fixed for one process: `bootId` is new at every start, so a
 * consumer can tell a gateway that restarted (new bootId; its health counters restart) from one
 * whose broker link dropped (same bootId). Carried by status and health (docs/payload.md).
 */
export interface WireIdentity {
  bootId: string;
  /** ms since the Unix epoch, when this process started. */
  startedAt: number;
  /** Which code runs: package, Node.js and outbox schema versions (gateway/version.ts). */
  version: VersionInfo;
  site?: SiteConfig;
}

export function processIdentity(site?: SiteConfig, now = Date.now()): WireIdentity {
  return { bootId: randomUUID(), startedAt: now, version: versionInfo(), ...(site ? { site } : {}) };
}
