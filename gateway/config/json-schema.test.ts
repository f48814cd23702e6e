import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RESTART_KEYS } from '../daemon.js';
import { jsonSchemas } from './json-schema.js';

/**
 * Editors (yaml-language-server) show a key's `description` on hover. Every property of every
 * generated schema must have one, or a technician hovering it learns nothing.
 */
type Node = Record<string, unknown>;

export function propertiesWithoutDescription(schema: unknown, path = '$'): string[] {
  const out: string[] = [];
  const walk = (node: unknown, at: string): void => {
    if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${at}[${i}]`));
    if (node === null || typeof node !== 'object') return;
    const n = node as Node;
    if (n.properties && typeof n.properties === 'object') {
      for (const [key, prop] of Object.entries(n.properties as Node)) {
        const p = prop as Node;
        if (typeof p.description !== 'string' || p.description.trim().length < 8) out.push(`${at}.${key}`);
      }
    }
    for (const [k, v] of Object.entries(n)) {
      if (k === 'properties') for (const [key, prop] of Object.entries(v as Node)) walk(prop, `${at}.${key}`);
      else if (['items', 'anyOf', 'oneOf', 'allOf', 'additionalProperties', '$defs', 'prefixItems'].includes(k)) walk(v, `${at}${k === 'items' ? '[]' : k === 'additionalProperties' ? '.*' : ''}`);
    }
  };
  walk(schema, path);
  return out;
}

describe('generated JSON Schemas for editors', () => {
  const schemas = jsonSchemas();

  it('describe every property of gateway.yaml and of every device type', () => {
    const missing = Object.entries(schemas).flatMap(([file, s]) => propertiesWithoutDescription(s, file));
    expect(missing).toEqual([]);
  });

  it('say "Applied on restart" for exactly the gateway.yaml settings a reload does not apply', () => {
    const leaves: Array<[string, string]> = [];
    const walk = (node: Node, at: string): void => {
      for (const [key, prop] of Object.entries((node.properties ?? {}) as Record<string, Node>)) {
        const path = at === '' ? key : `${at}.${key}`;
        if (prop.properties) walk(prop, path);
        else leaves.push([path, String(prop.description)]);
      }
    };
    walk(schemas['gateway.schema.json'] as Node, '');
    expect(leaves.length).toBeGreaterThan(30);
    for (const [path, description] of leaves) {
      const needsRestart = (RESTART_KEYS as readonly string[]).some((k) => path === k || path.startsWith(`${k}.`));
      expect(description, path).toContain(needsRestart ? 'Applied on restart' : 'A reload (edge-gateway reload, SIGHUP) applies it.');
    }
  });

  it('the check sees a property without a description', () => {
    expect(propertiesWithoutDescription({ type: 'object', properties: { a: { type: 'string', description: 'the a of it' }, b: { anyOf: [{ type: 'object', properties: { c: {} } }] } } })).toEqual(['$.b', '$.b[0].c']);
  });

  it('every example config points the YAML language server at its schema', () => {
    const root = join(import.meta.dirname, '../../config/examples');
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(dir, e.name));
        else if (e.name.endsWith('.yaml')) files.push(join(dir, e.name));
      }
    };
    walk(root);
    expect(files.length).toBeGreaterThan(3);
    for (const f of files) {
      const want = f.endsWith('gateway.yaml') ? 'gateway.schema.json' : 'device.schema.json';
      expect(readFileSync(f, 'utf8').split('\n')[0], f).toMatch(new RegExp(`^# yaml-language-server: \\$schema=(\\.\\./)+schema/${want.replace('.', '\\.')}$`));
    }
  });
});
