import fc from 'fast-check';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../gateway/config/load.js';

/**
 * Whatever a maintainer (or a broken editor, or a half-written file) leaves in the config
 * directory, loadConfig either returns a config or throws ConfigError with problems to show. Any
 * other exception would crash the daemon on start or on SIGHUP; a hang would wedge it.
 */
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'edge-gw-config-fuzz-'));
  mkdirSync(join(dir, 'devices'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const VALID_GATEWAY = { gateway: { id: 'gw-fuzz' }, mqtt: { urls: ['mqtt://127.0.0.1:1883'] }, outbox: { path: 'outbox.db' }, control: { socket: 'control.sock' } };
const VALID_DEVICE = { type: 'modbus-tcp', host: '127.0.0.1', port: 502, unitId: 1, intervalMs: 1000, registers: [{ name: 'r0', address: 0, type: 'uint16' }] };
/** Generous: a parse of a few kB that takes longer than this is as good as hung on a Pi. */
const SLOW_MS = 5_000;

function loadOutcome(gatewayYaml: string, deviceYaml?: string): 'ok' | 'config-error' {
  writeFileSync(join(dir, 'gateway.yaml'), gatewayYaml);
  const devicePath = join(dir, 'devices', 'dev.yaml');
  rmSync(devicePath, { force: true });
  if (deviceYaml !== undefined) writeFileSync(devicePath, deviceYaml);
  const t0 = performance.now();
  try {
    loadConfig(dir);
    return 'ok';
  } catch (err) {
    if (err instanceof ConfigError) {
      expect(err.problems.length).toBeGreaterThan(0);
      for (const p of err.problems) expect(typeof p.message).toBe('string');
      return 'config-error';
    }
    throw new Error(`loadConfig threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message} for gateway.yaml ${JSON.stringify(gatewayYaml.slice(0, 300))}${deviceYaml === undefined ? '' : ` and devices/dev.yaml ${JSON.stringify(deviceYaml.slice(0, 300))}`}`);
  } finally {
    expect(performance.now() - t0, 'loadConfig time (ms)').toBeLessThan(SLOW_MS);
  }
}

/** YAML-looking noise: indentation, keys, anchors, tags, flow collections, directives. */
const yamlish = fc
  .array(
    fc.oneof(
      fc.constantFrom('a: ', '- ', '  ', '\n', ': ', '{', '}', '[', ']', ',', '&x ', '*x', '!!str ', '!!binary ', '%YAML 1.2\n', '---\n', '...\n', '"', "'", '|', '>', '#', '? ', '\t', 'mqtt:', 'urls:', 'gateway:', 'id:', '<<: *x', '0x1F', '.inf', '~', '1e400'),
      fc.string({ maxLength: 8, unit: 'grapheme' }),
    ),
    { maxLength: 60 },
  )
  .map((parts) => parts.join(''));

/** A valid gateway.yaml with one value anywhere in it replaced by something arbitrary. */
const mutatedGateway = fc
  .tuple(
    fc.constantFrom<[string, string]>(['gateway', 'id'], ['mqtt', 'urls'], ['mqtt', 'keepalive'], ['outbox', 'maxFileBytes'], ['outbox', 'retention'], ['forward', 'inflightWindow'], ['health', 'interval'], ['clock', 'syncCheck'], ['log', 'level'], ['outbox', 'path']),
    fc.jsonValue({ maxDepth: 3 }),
  )
  .map(([[section, key], value]) => stringify({ ...VALID_GATEWAY, [section]: { ...(VALID_GATEWAY as Record<string, object>)[section], [key]: value } }));

describe('fuzz: YAML config loader', () => {
  it('arbitrary text as gateway.yaml: a config or a ConfigError, never anything else', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 400 }), yamlish), (text) => {
        loadOutcome(text);
      }),
      { numRuns: 400 },
    );
  });

  it('arbitrary YAML documents and mutated valid configs: a config or a ConfigError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything({ maxDepth: 3 }).map((v) => stringify(v) ?? ""), mutatedGateway), (text) => {
        loadOutcome(text);
      }),
      { numRuns: 300 },
    );
  });

  it('arbitrary device files next to a valid gateway.yaml: a config or a ConfigError', () => {
    const device = fc.oneof(
      yamlish,
      fc.jsonValue({ maxDepth: 3 }).map((v) => stringify(v) ?? ""),
      fc.tuple(fc.constantFrom('type', 'host', 'port', 'unitId', 'intervalMs', 'registers', 'id', 'enabled'), fc.jsonValue({ maxDepth: 2 })).map(([k, v]) => stringify({ ...VALID_DEVICE, [k]: v })),
    );
    fc.assert(
      fc.property(device, (text) => {
        loadOutcome(stringify(VALID_GATEWAY), text);
      }),
      { numRuns: 300 },
    );
  });

  it('hostile documents: alias bombs, deep nesting, huge scalars, binary junk', () => {
    const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++) laughs.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    const hostile = [
      laughs.join('\n'),
      `${'['.repeat(5000)}${']'.repeat(5000)}`,
      `${'{a: '.repeat(2000)}1${'}'.repeat(2000)}`,
      Array.from({ length: 3000 }, (_, i) => `${' '.repeat(i % 200)}k${i}:`).join('\n'),
      `gateway:\n  id: ${'x'.repeat(1_000_000)}\n`,
      '\u0000\u0001\u0002\ufeff\ud800',
      'gateway: !!js/function "function(){}"\n',
      'mqtt: {urls: [mqtt://127.0.0.1:1883], keepalive: 1e999}\ngateway: {id: g}\n',
    ];
    const failures: string[] = [];
    for (const text of hostile) {
      try {
        expect(loadOutcome(text)).toBe('config-error');
      } catch (err) {
        failures.push((err as Error).message.slice(0, 400));
      }
    }
    expect(failures).toEqual([]);
  });
});
