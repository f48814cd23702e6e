import { InvalidArgumentError, Option, type Command } from 'commander';
import type { ProbeTerminal } from '../../drivers/probe-terminal.js';
import type { ProbeArgs, ProbeOption } from '../../drivers/probe-verb.js';
import { probeVerbs } from '../../drivers/registry.js';
import { escapeControl } from './terminal.js';

/**
 * The technician commands: status, tail, reload, doctor, probe. Each is a thin shell over its own
 * module, loaded only when that command runs so `edge-gateway run` does not pay for them. Every
 * failure a technician can act on is printed as one plain line (no stack) with exit 1.
 */

export const DEFAULT_CONFIG_DIR = '/etc/edge-gateway';

function integer(name: string, min: number, max: number) {
  return (text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer ${min}..${max}, got "${text}"`);
    return n;
  };
}

export const socketOption = () => new Option('--socket <path>', 'control socket of the running gateway (default: from --config, else /run/edge-gateway/control.sock)');
export const configOption = () => new Option('-c, --config <dir>', 'config directory to read the control socket path from');

/**
 * Runs a command with Ctrl-C wired to an AbortSignal (a second Ctrl-C exits at once), plain error
 * lines, and an exit that cannot hang on a forgotten handle.
 */
export async function runCommand(name: string, body: (signal: AbortSignal) => Promise<number>): Promise<void> {
  const ac = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    if (++interrupts > 1) process.exit(130);
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // `edge-gateway tail | head` closes the pipe: stop quietly instead of crashing on EPIPE.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    ac.abort();
    process.exit(0);
  });
  try {
    process.exitCode = await body(ac.signal);
  } catch (err) {
    // Error text can quote a device or the network (a reason phrase, a path): escaped like output.
    process.stderr.write(`edge-gateway ${name}: ${escapeControl(plainMessage(err), { keepLineBreaks: true })}\n`);
    process.exitCode = 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    // Unref'd: fires only if some library left a socket or port open, so the CLI still exits.
    setTimeout(() => process.exit(), 2000).unref();
  }
}

/** How a family's probe command prints: colour and tables as every other technician command. */
async function probeTerminal(): Promise<ProbeTerminal> {
  const { escapeControl, formatClock, jsonForTerminal, styleFor, table, terminalSafe } = await import('./terminal.js');
  const style = styleFor(process.stdout);
  return {
    style,
    table: (header, rows) => table(header, rows, style),
    clock: formatClock,
    escape: escapeControl,
    safe: terminalSafe,
    json: jsonForTerminal,
  };
}

function plainMessage(err: unknown): string {
  if (err instanceof SyntaxError) return 'the gateway closed the connection without a valid answer (is it stopping or restarting?)';
  if (err instanceof Error) return err.message;
  return String(err);
}

export function registerOpsCommands(program: Command): void {
  program
    .command('status')
    .description('show broker link, queue, drops, clock and every device of the running gateway')
    .addOption(socketOption())
    .addOption(configOption())
    .option('--json', 'print the raw health report')
    .option('-w, --watch', 'refresh every second (with a drain progress bar on a terminal)')
    .action((opts: { socket?: string; config?: string; json?: boolean; watch?: boolean }) =>
      runCommand('status', async (signal) => (await import('./status.js')).runStatus(opts, signal)),
    );

  program
    .command('tail')
    .description('follow readings and events as the gateway commits them (Ctrl-C to stop)')
    .addOption(socketOption())
    .addOption(configOption())
    .option('-d, --device <id>', 'only this device')
    .option('--events', 'only events (scans, state changes, gateway alerts)')
    .option('--json', 'one JSON object per line')
    .action((opts: { socket?: string; config?: string; device?: string; events?: boolean; json?: boolean }) =>
      runCommand('tail', async (signal) => (await import('./tail.js')).runTail(opts, signal)),
    );

  program
    .command('reload')
    .description('reload the configuration of the running gateway and show what changed (exit 1 if rejected)')
    .addOption(socketOption())
    .addOption(configOption())
    .option('--json', 'print the raw reload result')
    .action((opts: { socket?: string; config?: string; json?: boolean }) => runCommand('reload', async () => (await import('./reload.js')).runReload(opts)));

  program
    .command('doctor')
    .description('check config, device ports, broker, clock, disk, outbox and daemon; says what to fix (exit 1 on any failure)')
    .option('-c, --config <dir>', 'config directory', DEFAULT_CONFIG_DIR)
    .addOption(new Option('--socket <path>', 'control socket (default: from the config)'))
    .option('--json', 'print the checks as JSON')
    .option('--no-probe', 'when the daemon is not running, do not read from Modbus TCP devices directly')
    .option('--timeout <ms>', 'broker connect timeout', integer('--timeout', 100, 60_000), 5000)
    .action((opts: { config: string; socket?: string; json?: boolean; probe: boolean; timeout: number }) =>
      runCommand('doctor', async () => (await import('./doctor.js')).runDoctor({ ...opts, brokerTimeoutMs: opts.timeout })),
    );

  const probe = program.command('probe').description('talk to a device directly to find its settings (stop the daemon first if it uses the port)');

  for (const verb of probeVerbs()) {
    const command = probe.command(verb.name).description(verb.description);
    for (const option of verb.options) command.addOption(commanderOption(option));
    command.action((args: ProbeArgs) => runCommand(`probe ${verb.name}`, async (signal) => verb.run(args, await probeTerminal(), signal)));
  }
}

/** A family's probe flag (drivers/probe-verb.ts) as a commander option, its bounds checked while parsing. */
export function commanderOption(o: ProbeOption): Option {
  const option = new Option(o.kind === 'switch' ? o.flag : `${o.flag} ${o.value}`, o.description);
  switch (o.kind) {
    case 'switch':
      return option;
    case 'text':
      if (o.default !== undefined) option.default(o.default);
      return o.required ? option.makeOptionMandatory() : option;
    case 'integer':
      option.argParser(integer(o.flag, o.min, o.max));
      if (o.default !== undefined) option.default(o.default);
      return o.required ? option.makeOptionMandatory() : option;
    case 'integers':
      return option.argParser((text: string) => text.split(',').map((t) => integer(`each value of ${o.flag}`, o.min, o.max)(t.trim())));
    case 'choice':
      option.choices(o.choices);
      if (o.default !== undefined) option.default(o.default);
      return o.hidden ? option.hideHelp() : option;
  }
}
