import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, formatProblem, loadConfig, loadConfigAsync, MAX_CONFIG_FILE_BYTES, MAX_CONFIG_TOTAL_BYTES, MAX_REPORTED_PROBLEMS, type ConfigProblem } from './load.js';

/**
 * Config files a careless technician (or a runaway generator) can produce: huge files, files with
 * a problem on every line, topic prefixes that are not MQTT topic names.
 */
const EXAMPLE = join(import.meta.dirname, '../../config/examples/intersection');
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'config-bounds-'));
  cpSync(EXAMPLE, dir, { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function errorOf(): ConfigError {
  try {
    loadConfig(dir);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected the config to be invalid');
}

function problemsOf(): ConfigProblem[] {
  return errorOf().problems;
}

const deviceHead = 'type: modbus-tcp\nhost: 127.0.0.1\nport: 502\nunitId: 1\nintervalMs: 100\nregisters:\n  - { name: a, address: 0, type: uint16 }\n';

describe('config file bounds', () => {
  it('refuses a file over the size limit with file, size and limit, without parsing it', () => {
    const line = 'k: 1\n';
    writeFileSync(join(dir, 'devices', 'huge.yaml'), deviceHead + line.repeat(Math.ceil(MAX_CONFIG_FILE_BYTES / line.length) + 10));
    const p = problemsOf();
    expect(p).toHaveLength(1);
    expect(formatProblem(p[0]!)).toMatch(/^devices\/huge\.yaml: too large: 64\.\d KiB, the limit is 64\.0 KiB/);
  });

  it('refuses files past the total for one directory, naming each and the limit', () => {
    const body = deviceHead + '# padding\n'.repeat(Math.floor((MAX_CONFIG_FILE_BYTES - deviceHead.length) / 10) - 1);
    const n = Math.ceil(MAX_CONFIG_TOTAL_BYTES / body.length) + 2;
    for (let i = 0; i < n; i++) writeFileSync(join(dir, 'devices', `big-${String(i).padStart(2, '0')}.yaml`), body);
    const refused = problemsOf().filter((x) => x.message.includes('the config files together exceed'));
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(formatProblem(refused[0]!)).toMatch(/^devices\/big-\d\d\.yaml: not read: the config files together exceed 2\.0 MiB, the limit for one config directory$/);
  });

  // The loader used to be quadratic in the number of keys (yaml's uniqueKeys check compared every
  // key with every earlier one, and each problem's line was found by scanning its parent's keys),
  // and it described every problem: three files of unknown keys answered a reload with 54 MB of
  // JSON and 316,219 log lines. The first problems are described with their lines, the rest counted.
  it('describes the first problems of many files of unknown keys with their lines, then says how many more', () => {
    const perFile = 4000;
    const keys = Array.from({ length: perFile }, (_, i) => `k${i}: ${i}\n`).join('');
    for (const f of ['m1', 'm2', 'm3', 'm4']) writeFileSync(join(dir, 'devices', `${f}.yaml`), deviceHead + keys);
    const err = errorOf();
    const p = err.problems;
    expect(err.total).toBe(4 * perFile);
    expect(p).toHaveLength(MAX_REPORTED_PROBLEMS + 1);
    const headLines = deviceHead.split('\n').length - 1;
    expect(p[0]).toMatchObject({ file: 'devices/m1.yaml', path: 'k0', line: headLines + 1, message: expect.stringContaining('unknown key') });
    expect(p[MAX_REPORTED_PROBLEMS - 1]).toMatchObject({ path: `k${MAX_REPORTED_PROBLEMS - 1}`, line: headLines + MAX_REPORTED_PROBLEMS });
    expect(formatProblem(p[MAX_REPORTED_PROBLEMS]!)).toBe(`${dir}: and ${4 * perFile - MAX_REPORTED_PROBLEMS} more problem(s) not shown (the first ${MAX_REPORTED_PROBLEMS} are listed; fix them and check again)`);
    expect(err.message.split('\n')[0]).toBe(`${4 * perFile} configuration problem(s):`);
  });

  it('gives the same answer loaded in a worker thread (reload) as in one go (check-config)', async () => {
    writeFileSync(join(dir, 'devices', 'bad.yaml'), `${deviceHead}  - { name: b, address: 1, type: uint16, address: 2 }\n`);
    writeFileSync(join(dir, 'devices', 'typo.yaml'), `${deviceHead}prot: 503\n`);
    const sync = problemsOf();
    const async = await loadConfigAsync(dir).then(
      () => [],
      (err: unknown) => (err as ConfigError).problems,
    );
    expect(async).toEqual(sync);
    expect(sync.map(formatProblem)).toContain('devices/typo.yaml:8: prot: unknown key (check spelling; unknown keys are not allowed)');
    rmSync(join(dir, 'devices', 'bad.yaml'));
    rmSync(join(dir, 'devices', 'typo.yaml'));
    expect((await loadConfigAsync(dir)).devices.map((d) => d.id)).toEqual(loadConfig(dir).devices.map((d) => d.id));
  });

  it('still finds duplicate keys, with their line, at any depth', () => {
    writeFileSync(join(dir, 'devices', 'dup.yaml'), `${deviceHead}  - { name: b, address: 1, type: uint16, address: 2 }\nport: 503\n`);
    const p = problemsOf().map(formatProblem);
    expect(p).toContain('devices/dup.yaml:8: YAML: Map keys must be unique');
    expect(p).toContain('devices/dup.yaml:9: YAML: Map keys must be unique');
  });
});

describe('mqtt.topicPrefix', () => {
  const withPrefix = (prefix: string) => {
    const gw = `gateway:\n  id: gw\nmqtt:\n  urls: [mqtt://127.0.0.1:1883]\n  topicPrefix: ${JSON.stringify(prefix)}\n`;
    writeFileSync(join(dir, 'gateway.yaml'), gw);
  };

  it.each([
    ['a NUL', 'city\u0000traffic', 'no control characters'],
    ['an escape sequence', 'city\u001b[31m', 'no control characters'],
    ['a newline', 'city\ntraffic', 'no control characters'],
    ['a C1 control', 'city\u0085', 'no control characters'],
    ['a + wildcard', 'city/+', 'no wildcards'],
    ['a # wildcard', 'city/#', 'no wildcards'],
    ['a leading $', '$SYS/city', 'must not start with $'],
    ['nothing', '', ''],
  ])('rejects %s', (_what, prefix, message) => {
    withPrefix(prefix);
    const p = problemsOf().filter((x) => x.path === 'mqtt.topicPrefix');
    expect(p).not.toHaveLength(0);
    expect(p[0]!.line).toBe(5);
    expect(p.map((x) => x.message).join(' ')).toContain(message);
  });

  it('accepts ordinary prefixes, including a $ later on', () => {
    for (const ok of ['edge', 'city/traffic', 'a$b', 'Zürich/verkehr']) {
      withPrefix(ok);
      expect(loadConfig(dir).gateway.mqtt.topicPrefix).toBe(ok);
    }
  });
});
