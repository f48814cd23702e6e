import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeConfigDir } from '../../test-rigs/harness/config-dir.js';
import { LAST_GOOD_DIR, loadConfigOrLastGood, saveLastGood } from './last-good.js';
import { ConfigError, loadConfig } from './load.js';

/**
 * The last good config (issue 21, finding 5): kept next to the outbox, byte for byte, only when it
 * changed; used at start when the config directory is invalid; secrets stay where they are.
 */
const root = mkdtempSync(join(tmpdir(), 'edge-gw-last-good-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const device = { type: 'modbus-tcp', host: '127.0.0.1', port: 1502, unitId: 1, registers: [{ name: 'counter', address: 0, type: 'uint16' }] };

function site(name: string) {
  const dir = join(root, name);
  const state = join(root, `${name}-state`);
  const c = writeConfigDir({ dir, brokerUrls: ['mqtt://127.0.0.1:1883'], devices: { pump: device, fan: { ...device, unitId: 2 } }, gateway: { outbox: { path: join(state, 'outbox.db') } } });
  return { ...c, state };
}

describe('the last good config', () => {
  it('runs in place of an invalid config directory, with the problems that kept the files out', () => {
    const s = site('a');
    // A relative secret: the copy must still find it in the config directory, not in the state one.
    mkdirSync(join(s.dir, 'secrets'));
    writeFileSync(join(s.dir, 'secrets/mqtt.pass'), 's3cret\n', { mode: 0o600 });
    writeFileSync(join(s.dir, 'gateway.yaml'), readFileSync(join(s.dir, 'gateway.yaml'), 'utf8').replace('mqtt:\n', 'mqtt:\n  username: gw\n  passwordFile: secrets/mqtt.pass\n'));
    const savedAt = saveLastGood(loadConfig(s.dir));
    expect(readdirSync(join(s.state, LAST_GOOD_DIR)).sort()).toEqual(['devices', 'gateway.yaml', 'manifest.json']);
    expect(readdirSync(join(s.state, LAST_GOOD_DIR, 'devices')).sort()).toEqual(['fan.yaml', 'pump.yaml']);

    const fan = join(s.dir, 'devices/fan.yaml');
    writeFileSync(fan, readFileSync(fan, 'utf8').replace('unitId: 2', 'unitId: two'));
    const start = loadConfigOrLastGood(s.dir);
    expect(start.rejected?.map((p) => `${p.file}:${p.line}: ${p.path}`)).toEqual(['devices/fan.yaml:4: unitId']);
    if (!start.rejected) throw new Error('expected the last good config');
    expect(start.lastGood.savedAt).toBe(savedAt);
    expect(start.config.dir).toBe(s.dir);
    expect(start.config.devices.find((d) => d.id === 'fan')).toMatchObject({ unitId: 2 });
    expect(start.config.secrets.mqttPassword?.reveal()).toBe('s3cret');
  });

  it('is written again only when the files changed', () => {
    const s = site('b');
    const first = saveLastGood(loadConfig(s.dir));
    expect(saveLastGood(loadConfig(s.dir))).toBe(first);
    const pump = join(s.dir, 'devices/pump.yaml');
    writeFileSync(pump, readFileSync(pump, 'utf8').replace('port: 1502', 'port: 1503'));
    const second = saveLastGood(loadConfig(s.dir));
    expect(second).not.toBe(first);
    expect(readFileSync(join(s.state, LAST_GOOD_DIR, 'devices/pump.yaml'), 'utf8')).toContain('port: 1503');
    expect(readdirSync(s.state).filter((n) => n.startsWith(LAST_GOOD_DIR))).toEqual([LAST_GOOD_DIR]);
  });

  it('is found through $STATE_DIRECTORY when gateway.yaml itself is the broken file', () => {
    const s = site('c');
    saveLastGood(loadConfig(s.dir));
    writeFileSync(join(s.dir, 'gateway.yaml'), 'gateway: [oops\n');
    const before = process.env.STATE_DIRECTORY;
    process.env.STATE_DIRECTORY = s.state;
    try {
      const start = loadConfigOrLastGood(s.dir);
      expect(start.rejected?.[0]?.file).toBe('gateway.yaml');
      expect(start.config.gateway.outbox.path).toBe(join(s.state, 'outbox.db'));
    } finally {
      if (before === undefined) delete process.env.STATE_DIRECTORY;
      else process.env.STATE_DIRECTORY = before;
    }
  });

  it('is not used for another config directory, and without one an invalid config still fails', () => {
    const s = site('d');
    const other = join(root, 'd-copy');
    mkdirSync(join(other, 'devices'), { recursive: true });
    writeFileSync(join(other, 'gateway.yaml'), readFileSync(join(s.dir, 'gateway.yaml'), 'utf8'));
    saveLastGood(loadConfig(other));
    writeFileSync(join(s.dir, 'devices/fan.yaml'), 'type: [oops\n');
    expect(() => loadConfigOrLastGood(s.dir)).toThrow(ConfigError);
  });
});
