import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCommand } from './command-message.js';
import { signedBytes } from './signature.js';

describe('signed text', () => {
  it('is what docs/commands.md tells a command centre to sign', () => {
    const doc = readFileSync(join(import.meta.dirname, '../../docs/commands.md'), 'utf8');
    const example = /For example `(\[.*?\])`/.exec(doc)?.[1];
    expect(example).toBeDefined();
    const parsed = parseCommand(JSON.stringify({ v: 1, id: 'c-1', device: 'plc', point: 'setpoint', action: 'write', value: 42, expiresAt: 1800000030000 }), 'mqtt');
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(signedBytes('gw-1', parsed.command).toString('utf8')).toBe(example);
  });

  it('ignores unknown fields, which are not signed', () => {
    const a = parseCommand(JSON.stringify({ v: 1, id: 'x', device: 'd', point: 'p', action: 'pulse', expiresAt: 5, priority: 'high' }), 'mqtt');
    expect(a.ok && signedBytes('g', a.command).toString()).toBe('["edge-gateway.command.v1","g","x","d","p","pulse",null,null,5,null]');
  });
});
