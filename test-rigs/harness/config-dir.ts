import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

/**
 * Writes a real config directory (gateway.yaml + devices/*.yaml) for a test or the demo, so the
 * gateway under test goes through exactly the loader and validation a maintainer's files do.
 */
export interface ConfigDirOptions {
  gatewayId?: string;
  brokerUrls: string[];
  topicPrefix?: string;
  /** Device id -> device file contents (without `id`; the file name supplies it). */
  devices?: Record<string, Record<string, unknown>>;
  /** Deep-merged over the generated gateway.yaml sections. */
  gateway?: Record<string, Record<string, unknown>>;
  /** Put the config (and, unless overridden, the outbox) here instead of a fresh temp dir. */
  dir?: string;
}

export interface ConfigDir {
  dir: string;
  outboxPath: string;
  gatewayId: string;
  topicPrefix: string;
}

export function writeConfigDir(opts: ConfigDirOptions): ConfigDir {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'edge-gw-config-'));
  mkdirSync(join(dir, 'devices'), { recursive: true });
  const gatewayId = opts.gatewayId ?? 'test-gw';
  const topicPrefix = opts.topicPrefix ?? 'test';
  const sections: Record<string, Record<string, unknown>> = {
    gateway: { id: gatewayId },
    mqtt: { urls: opts.brokerUrls, topicPrefix, keepalive: '5s', connectTimeout: '3s', reconnect: { minDelay: '100ms', maxDelay: '1s' } },
    outbox: { path: join(dir, 'outbox.db') },
    control: { socket: join(dir, 'control.sock'), actuateSocket: join(dir, 'actuate.sock') },
    clock: { syncCheck: 'none' },
    health: { interval: '1s' },
    log: { level: 'info' },
  };
  for (const [k, v] of Object.entries(opts.gateway ?? {})) sections[k] = { ...sections[k], ...v };
  writeFileSync(join(dir, 'gateway.yaml'), stringify(sections));
  for (const [id, device] of Object.entries(opts.devices ?? {})) {
    writeFileSync(join(dir, 'devices', `${id}.yaml`), stringify(device));
  }
  return { dir, outboxPath: String(sections.outbox!.path), gatewayId, topicPrefix };
}
