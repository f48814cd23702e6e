import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, formatProblem, loadConfig, MAX_CONFIG_FILE_BYTES, type ConfigProblem } from './load.js';

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

function problemsOf(): ConfigProblem[] {
  try {
    loadConfig(dir);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected the config to be invalid');
}

const deviceHead = 'type: modbus-tcp\nhost: 127.0.0.1\nport: 502\nunitId: 1\nintervalMs: 100\nregisters:\n  - { name: a, address: 0, type: uint16 }\n';

describe('config file bounds', () => {
  it('refuses a file over the size limit with file, size and limit, without parsing it', () => {
    const line = 'k: 1\n';
    writeFileSync(join(dir, 'devices', 'huge.yaml'), deviceHead + line.repeat(Math.ceil(MAX_CONFIG_FILE_BYTES / line.length) + 10));
    const p = problemsOf();
    expect(p).toHaveLength(1);
    expect(formatProblem(p[0]!)).toMatch(/^devices\/huge\.yaml: too large: 1\.0 MiB, the limit is 1\.0 MiB/);
  });

  // The loader used to be quadratic in the number of keys (yaml's uniqueKeys check compared every
  // key with every earlier one, and each problem's line was found by scanning its parent's keys):
  // a file like this one, under the size limit, kept it busy for most of an hour.
  it('reports one problem per key of a 50,000-key file, each on its own line, in one linear pass', () => {
    const n = 50_000;
    const keys = Array.from({ length: n }, (_, i) => `k${i}: ${i}\n`).join('');
    writeFileSync(join(dir, 'devices', 'many.yaml'), deviceHead + keys);
    const p = problemsOf().filter((x) => x.file === 'devices/many.yaml');
    expect(p).toHaveLength(n);
    const headLines = deviceHead.split('\n').length - 1;
    expect(p[0]).toMatchObject({ path: 'k0', line: headLines + 1, message: expect.stringContaining('unknown key') });
    expect(p[n - 1]).toMatchObject({ path: `k${n - 1}`, line: headLines + n });
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
