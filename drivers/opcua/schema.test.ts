import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readSecretFiles } from '../../gateway/config/secret-files.js';
import { deviceErrorFrom } from './errors.js';
import { opcuaDeviceSchema } from './schema.js';

const base = {
  id: 'sig-ctrl-1',
  type: 'opcua',
  endpointUrl: 'opc.tcp://10.20.0.5:4840',
  items: [{ nodeId: 'ns=2;s=Counter', point: 'counter' }],
};

describe('opcua device schema', () => {
  it('fills defaults', () => {
    const c = opcuaDeviceSchema.parse(base);
    expect(c.securityMode).toBe('None');
    expect(c.auth).toEqual({ type: 'anonymous' });
    expect(c.items[0]).toMatchObject({ samplingIntervalMs: 1000, queueSize: 10 });
    expect(c.trustUnknownServerCertificate).toBe(false);
  });

  it('rejects unknown keys, bad node ids, mismatched security, duplicate points', () => {
    const issues = (x: unknown) => opcuaDeviceSchema.safeParse(x).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(issues({ ...base, pollMs: 5 }).join()).toMatch(/pollMs/);
    expect(issues({ ...base, items: [{ nodeId: 'Counter', point: 'c' }] }).join()).toMatch(/items.0.nodeId/);
    expect(issues({ ...base, securityMode: 'SignAndEncrypt' }).join()).toMatch(/securityPolicy/);
    expect(issues({ ...base, items: [...base.items, { nodeId: 'ns=2;i=5', point: 'counter' }] }).join()).toMatch(/duplicate point/);
    expect(issues({ ...base, auth: { type: 'username', username: 'u' } }).join()).toMatch(/password or passwordFile/);
    expect(issues({ ...base, items: [{ ...base.items[0], deadband: { type: 'percent', value: 150 } }] }).join()).toMatch(/<= 100/);
    expect(issues({ ...base, endpointUrl: 'http://x' }).join()).toMatch(/endpointUrl/);
  });

  it('rejects credentials in endpointUrl and points to the auth fields, without echoing them', () => {
    for (const endpointUrl of ['opc.tcp://op:S3cret@10.20.0.5:4840', 'opc.tcp://op:Pa@ss@plc:4840/UA', 'opc.tcp://op:pa/ss@plc:4840']) {
      const r = opcuaDeviceSchema.safeParse({ ...base, endpointUrl });
      expect(r.success, endpointUrl).toBe(false);
      const text = r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
      expect(text).toMatch(/endpointUrl: must not contain user:password@; put credentials in auth/);
      expect(text).not.toMatch(/S3cret|Pa@ss|pa\/ss/);
    }
  });

  it('accepts a secured username config and reads its password file when the config loads, as a Secret', () => {
    const dir = mkdtempSync(join(tmpdir(), 'opcua-pw-'));
    try {
      const pw = join(dir, 'plc.pw');
      writeFileSync(pw, 'pl\u00e7-s3cret\nsecond line\n', { mode: 0o600 });
      const c = opcuaDeviceSchema.parse({
        ...base,
        securityMode: 'SignAndEncrypt',
        securityPolicy: 'Basic256Sha256',
        auth: { type: 'username', username: 'gw', passwordFile: pw },
        items: [{ nodeId: 'ns=3;s=Detector.Occupancy', point: 'occupancy', deadband: { type: 'percent', value: 2 } }],
      });
      if (c.auth.type !== 'username') throw new Error('expected username auth');
      expect(readSecretFiles(c, dir).problems).toEqual([]);
      expect(c.auth.passwordFile?.reveal()).toBe('pl\u00e7-s3cret');
      expect(JSON.stringify(c) + inspect(c, { depth: 10 })).not.toContain('s3cret');
      const inline = opcuaDeviceSchema.parse({ ...base, auth: { type: 'username', username: 'gw', password: 'inl1ne-s3cret' } });
      expect(JSON.stringify(inline) + inspect(inline, { depth: 10 })).not.toContain('s3cret');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('makes a missing or empty password file a config error naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'opcua-pw-'));
    try {
      const issues = (passwordFile: string) =>
        readSecretFiles(opcuaDeviceSchema.parse({ ...base, auth: { type: 'username', username: 'gw', passwordFile } }), dir).problems.map((p) => `${p.path.join('.')}: ${p.message}`);
      const missing = join(dir, 'absent.pw');
      expect(issues(missing)).toEqual([`auth.passwordFile: secret file ${missing}: file not found`]);
      writeFileSync(join(dir, 'empty.pw'), '\n');
      expect(issues(join(dir, 'empty.pw'))).toEqual([`auth.passwordFile: secret file ${join(dir, 'empty.pw')} is empty (the secret is its first line)`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('deviceErrorFrom', () => {
  it('maps node-opcua messages to stable codes and keeps context', () => {
    expect(deviceErrorFrom(new Error('BadUserAccessDenied (0x801f0000)'), 'connect').code).toBe('OPCUA_AUTH_REJECTED');
    expect(deviceErrorFrom(new Error('The connection cannot be established with server opc.tcp://x .\nPlease check that the server is up'), 'c').code).toBe('ECONNREFUSED');
    expect(deviceErrorFrom(new Error('BadCertificateUntrusted'), 'c').code).toBe('OPCUA_CERTIFICATE_REJECTED');
    const e = deviceErrorFrom(Object.assign(new Error('x'), { code: 'OPCUA_SECRET_MISSING' }), 'connect to opc.tcp://h:1');
    expect(e).toMatchObject({ code: 'OPCUA_SECRET_MISSING', message: 'connect to opc.tcp://h:1: x' });
  });
});
