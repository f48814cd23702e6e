import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { modbusFamily } from '../../drivers/modbus/module.js';
import type { ProbeOption } from '../../drivers/probe-verb.js';
import { probeVerbs } from '../../drivers/registry.js';
import { serialLineFamily } from '../../drivers/serial-line/module.js';
import { commanderOption } from './register.js';

/** `edge-gateway probe <name>` comes from the families: their flags, as data, become commander options. */

function parse(options: ProbeOption[], argv: string[]): Record<string, unknown> {
  const cmd = new Command('probe-x').exitOverride().configureOutput({ writeErr: () => undefined });
  for (const o of options) cmd.addOption(commanderOption(o));
  cmd.parse(argv, { from: 'user' });
  return cmd.opts();
}

describe('probe verbs', () => {
  it('are the ones the families contribute through their modules', () => {
    expect(probeVerbs().map((v) => v.name).sort()).toEqual(['modbus', 'serial']);
    expect(probeVerbs()).toContain(modbusFamily.probe);
    expect(probeVerbs()).toContain(serialLineFamily.probe);
  });

  it('a family\'s flags keep their bounds, defaults, choices and required marks on the command line', () => {
    const options: ProbeOption[] = [
      { kind: 'integer', flag: '--count', value: '<n>', description: 'n', min: 1, max: 5, required: true },
      { kind: 'integer', flag: '--timeout', value: '<ms>', description: 't', min: 20, max: 100, default: 30 },
      { kind: 'integers', flag: '--bauds', value: '<list>', description: 'b', min: 50, max: 1000 },
      { kind: 'choice', flag: '--mode', value: '<m>', description: 'm', choices: ['a', 'b'], default: 'a' },
      { kind: 'text', flag: '--unit', value: '<ids>', description: 'u', default: '1-247' },
      { kind: 'switch', flag: '--json', description: 'j' },
    ];
    expect(parse(options, ['--count', '3', '--bauds', '100, 200', '--json'])).toEqual({ count: 3, timeout: 30, bauds: [100, 200], mode: 'a', unit: '1-247', json: true });
    expect(() => parse(options, ['--count', '6'])).toThrow(/--count must be an integer 1\.\.5, got "6"/);
    expect(() => parse(options, ['--count', '1', '--bauds', '100,2000'])).toThrow(/each value of --bauds must be an integer 50\.\.1000, got "2000"/);
    expect(() => parse(options, ['--count', '1', '--mode', 'c'])).toThrow(/Allowed choices are a, b/);
    expect(() => parse(options, [])).toThrow(/required option '--count <n>' not specified/);
  });

  it('a hidden flag still parses but stays out of the help', () => {
    const options: ProbeOption[] = [{ kind: 'choice', flag: '--delimiter', value: '<d>', description: 'old name', choices: ['CR', 'LF'], hidden: true }];
    expect(parse(options, ['--delimiter', 'CR'])).toEqual({ delimiter: 'CR' });
    const cmd = new Command('probe-x');
    cmd.addOption(commanderOption(options[0]!));
    expect(cmd.helpInformation()).not.toContain('--delimiter');
  });
});
