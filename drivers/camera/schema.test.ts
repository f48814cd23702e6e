import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { deviceConfigSchema, driverModuleFor } from '../registry.js';
import { readSecretFiles } from '../../gateway/config/secret-files.js';
import { UnreadSecretFile } from '../kit/secret-file.js';
import { cameraDeviceSchema, cameraPassword } from './schema.js';

const dir = mkdtempSync(join(tmpdir(), 'camera-schema-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = { type: 'camera', id: 'cam-n1', host: '10.0.0.5', probes: { rtsp: {} } };

function issues(input: unknown): string[] {
  const r = cameraDeviceSchema.safeParse(input);
  expect(r.success).toBe(false);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('camera config schema', () => {
  it('fills defaults and is reachable through the registry as type "camera"', async () => {
    const cfg = deviceConfigSchema.parse(base);
    expect(cfg).toMatchObject({
      type: 'camera',
      intervalMs: 30_000,
      flapThreshold: 3,
      probes: { rtsp: { port: 554, path: '/', timeoutMs: 3000 } },
    });
    const mod = driverModuleFor('camera');
    expect(mod?.type).toBe('camera');
    expect(typeof (await mod!.load())).toBe('function');
  });

  it('rejects unknown keys, no probes, credentials in URLs and a password without a username', () => {
    expect(issues({ ...base, colour: 'red' }).join()).toMatch(/colour|Unrecognized/);
    expect(issues({ ...base, probes: {} }).join()).toContain('configure at least one probe');
    expect(issues({ ...base, probes: { snapshot: { url: 'http://admin:pw@10.0.0.5/snap.jpg' } } }).join()).toContain(
      'must not contain user:password',
    );
    expect(issues({ ...base, probes: { snapshot: { url: 'ftp://10.0.0.5/x.jpg' } } }).join()).toContain('http');
    expect(issues({ ...base, password: 'pw' }).join()).toContain('username: a password needs a username');
    expect(issues({ ...base, host: 'rtsp://10.0.0.5' }).join()).toContain('host');
    expect(issues({ ...base, probes: { rtsp: { path: 'no-slash' } } }).join()).toContain('must start with /');
  });

  it('marks passwordFile as a secret file, which the config loader reads relative to the config directory', () => {
    writeFileSync(join(dir, 'cam.pw'), 'from-file-pw\nignored second line\n');
    const cfg = cameraDeviceSchema.parse({ ...base, username: 'u', passwordFile: 'cam.pw' });
    expect(cfg.passwordFile).toBeInstanceOf(UnreadSecretFile);
    expect(readSecretFiles(cfg, dir).problems).toEqual([]);
    expect(cameraPassword(cfg)?.reveal()).toBe('from-file-pw');

    const missing = cameraDeviceSchema.parse({ ...base, username: 'u', passwordFile: 'missing' });
    expect(readSecretFiles(missing, dir).problems.map((p) => `${p.path.join('.')}: ${p.message}`)).toEqual([`passwordFile: secret file ${join(dir, 'missing')}: file not found`]);
    expect(issues({ ...base, username: 'u', password: 'x', passwordFile: 'cam.pw' }).join()).toContain('not both');
  });

  it('keeps the password out of JSON, string conversion and util.inspect of the parsed config', () => {
    const cfg = cameraDeviceSchema.parse({ ...base, username: 'u', password: 'hunter2-secret' });
    expect(JSON.stringify(cfg)).not.toContain('hunter2-secret');
    expect(inspect(cfg, { depth: 10 })).not.toContain('hunter2-secret');
    expect(`${cfg.password}`).toBe('[redacted]');
    expect(cameraPassword(cfg)?.reveal()).toBe('hunter2-secret');
  });

  it('can be rendered as an editor JSON Schema like the other device types', () => {
    const schema = z.toJSONSchema(deviceConfigSchema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' });
    expect(JSON.stringify(schema)).toContain('"camera"');
  });
});
