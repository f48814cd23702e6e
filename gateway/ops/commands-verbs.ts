import { InvalidArgumentError, Option, type Command } from 'commander';
import { configOption, runCommand, socketOption } from './register.js';

/** The command channel's technician verbs: the journal (ops group) and write/pulse (actuate group). */
export function registerCommandVerbs(program: Command): void {
  program
    .command('commands')
    .description('show the command journal, newest first: every command the gateway was sent, executed or not')
    .addOption(socketOption())
    .addOption(configOption())
    .option('-d, --device <id>', 'only commands for this device')
    .option('-n, --limit <n>', 'how many (1-1000)', positiveInt('--limit', 1000), 50)
    .option('--json', 'one JSON object per line')
    .action((opts: { socket?: string; config?: string; device?: string; limit: number; json?: boolean }) =>
      runCommand('commands', async () => (await import('./commands.js')).runCommandsList(opts)),
    );

  program
    .command('write')
    .description('write a declared point by hand (commissioning), through the same checks and journal as a remote command; needs group edge-gateway-actuate')
    .argument('<device>', 'device id')
    .argument('<point>', 'writable point (declared under writes: or outputs:)')
    .argument('<value>', 'number in engineering units, or true/false/on/off')
    .addOption(actuateSocketOption())
    .addOption(configOption())
    .option('--json', 'print the outcome as JSON')
    .action((device: string, point: string, value: string, opts: { socket?: string; config?: string; json?: boolean }) =>
      runCommand('write', async () => {
        const m = await import('./commands.js');
        return m.runActuate({ cmd: 'write', device, point, value: m.parseValue(value) }, opts);
      }),
    );

  program
    .command('pulse')
    .description('pulse a declared output (a barrier relay) by hand; needs group edge-gateway-actuate')
    .argument('<device>', 'device id')
    .argument('<point>', 'output with pulse: declared')
    .option('--ms <n>', 'pulse length in ms (default: the point\'s pulse.defaultMs)', positiveInt('--ms', 600_000))
    .addOption(actuateSocketOption())
    .addOption(configOption())
    .option('--json', 'print the outcome as JSON')
    .action((device: string, point: string, opts: { ms?: number; socket?: string; config?: string; json?: boolean }) =>
      runCommand('pulse', async () => (await import('./commands.js')).runActuate({ cmd: 'pulse', device, point, ...(opts.ms !== undefined && { durationMs: opts.ms }) }, opts)),
    );
}

const actuateSocketOption = () => new Option('--socket <path>', 'actuate socket of the running gateway (default: from --config, else /run/edge-gateway/actuate.sock)');

function positiveInt(name: string, max: number) {
  return (text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`${name} must be an integer 1..${max}, got "${text}"`);
    return n;
  };
}
