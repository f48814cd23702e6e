import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { OUTBOX_SCHEMA_VERSION } from './outbox/schema-version.js';

/**
 * Which edge-gateway runs: the package version (from the package.json installed beside the code:
 * the repo root in development, /opt/edge-gateway/current in the .deb), the Node.js running it,
 * and the outbox schema this code writes. Shown by --version, status, health and doctor.
 */
export interface VersionInfo {
  package: string;
  node: string;
  outboxSchema: number;
}

let cached: string | undefined;

function packageVersion(): string {
  if (cached !== undefined) return cached;
  // gateway/ (tests, from source) or dist/gateway/ (built): the package.json is one or two up.
  for (let dir = dirname(import.meta.dirname), i = 0; i < 3; dir = dirname(dir), i++) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    try {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'edge-gateway' && typeof pkg.version === 'string') return (cached = pkg.version);
    } catch {
      // Not ours or unreadable: keep looking upwards.
    }
  }
  return (cached = 'unknown');
}

export function versionInfo(): VersionInfo {
  return { package: packageVersion(), node: process.version, outboxSchema: OUTBOX_SCHEMA_VERSION };
}

export function formatVersion(v: VersionInfo = versionInfo()): string {
  return `edge-gateway ${v.package} (Node.js ${v.node}, outbox schema ${v.outboxSchema})`;
}
