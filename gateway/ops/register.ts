import { InvalidArgumentError, Option, type Command } from 'commander';
import type { ProbeTerminal } from '../../drivers/probe-terminal.js';
import type { TerminatorConfig } from '../../drivers/transport/serial/terminator.js';
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

function baudList(text: string): number[] {
  return text.split(',').map((t) => integer('each baud rate', 50, 4_000_000)(t.trim()));
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

  probe
    .command('modbus')
    .description('find Modbus units that answer and show their registers decoded every way')
    .option('--port <path>', 'serial port for Modbus RTU, e.g. /dev/serial/by-id/usb-FTDI_...')
    .option('--host <host>', 'Modbus TCP device or gateway')
    .option('--tcp-port <n>', 'Modbus TCP port', integer('--tcp-port', 1, 65535), 502)
    .option('--baud <n>', 'RTU baud rate', integer('--baud', 50, 4_000_000), 9600)
    .option('--bauds <list>', 'RTU: try each baud rate, e.g. 9600,19200,38400', baudList)
    .addOption(new Option('--parity <p>', 'RTU parity').choices(['none', 'even', 'odd']).default('none'))
    .addOption(new Option('--data-bits <n>', 'RTU data bits').choices(['7', '8']).default('8'))
    .addOption(new Option('--stop-bits <n>', 'RTU stop bits').choices(['1', '2']).default('1'))
    .option('--unit <ids>', 'unit ids: 5, 1-247 or 1,2,10-12', '1-247')
    .requiredOption('--register <address>', 'first register address (0-based, as on the wire)', integer('--register', 0, 65535))
    .option('--count <n>', 'registers to read (2 shows 32-bit decodings, 4 shows float64)', integer('--count', 1, 125), 2)
    .addOption(new Option('--table <t>', 'register table').choices(['holding', 'input', 'coil', 'discrete']).default('holding'))
    .option('--timeout <ms>', 'answer timeout per unit', integer('--timeout', 20, 10_000), 300)
    .option('--json', 'print the results as JSON')
    .action(
      (opts: {
        port?: string;
        host?: string;
        tcpPort: number;
        baud: number;
        bauds?: number[];
        parity: 'none' | 'even' | 'odd';
        dataBits: string;
        stopBits: string;
        unit: string;
        register: number;
        count: number;
        table: 'holding' | 'input' | 'coil' | 'discrete';
        timeout: number;
        json?: boolean;
      }) =>
        runCommand('probe modbus', async (signal) => {
          const m = await (await import('../../drivers/modbus/module.js')).loadModbusProbe();
          return m.runProbeModbus(
            { ...opts, units: m.parseUnits(opts.unit), dataBits: Number(opts.dataBits) as 7 | 8, stopBits: Number(opts.stopBits) as 1 | 2, timeoutMs: opts.timeout },
            await probeTerminal(),
            signal,
          );
        }),
    );

  probe
    .command('serial')
    .description('print the lines a serial device sends, with timestamps (Ctrl-C to stop)')
    .requiredOption('--port <path>', 'serial port, e.g. /dev/serial/by-id/usb-FTDI_...')
    .option('--baud <n>', 'baud rate', integer('--baud', 50, 4_000_000), 9600)
    .addOption(new Option('--parity <p>', 'parity').choices(['none', 'even', 'odd', 'mark', 'space']).default('none'))
    .addOption(new Option('--data-bits <n>', 'data bits').choices(['5', '6', '7', '8']).default('8'))
    .addOption(new Option('--stop-bits <n>', 'stop bits').choices(['1', '1.5', '2']).default('1'))
    .addOption(new Option('--terminator <t>', 'line end, as in the device file (any = CR, LF or CRLF)').choices(LINE_ENDS).default('any'))
    // The old name, kept so scripts written for it still run; like the device file's `delimiter`.
    .addOption(new Option('--delimiter <d>').choices(LINE_ENDS).hideHelp())
    .option('--lines <n>', 'stop after this many lines', integer('--lines', 1, 1_000_000))
    .option('--json', 'one JSON object per line (with the raw bytes in hex)')
    .action(
      (opts: {
        port: string;
        baud: number;
        parity: 'none' | 'even' | 'odd' | 'mark' | 'space';
        dataBits: string;
        stopBits: string;
        terminator: LineEndName;
        delimiter?: LineEndName;
        lines?: number;
        json?: boolean;
      }) =>
        runCommand('probe serial', async (signal) =>
          (await (await import('../../drivers/serial-line/module.js')).loadSerialProbe()).runProbeSerial(
            {
              port: opts.port,
              baud: opts.baud,
              parity: opts.parity,
              dataBits: Number(opts.dataBits) as 5 | 6 | 7 | 8,
              stopBits: Number(opts.stopBits) as 1 | 1.5 | 2,
              terminator: opts.delimiter ?? opts.terminator,
              lines: opts.lines,
              json: opts.json,
            },
            await probeTerminal(),
            signal,
          ),
        ),
    );
}

/** The named terminators of a device file (terminator.ts's schema); a custom one needs a file. */
type LineEndName = Extract<TerminatorConfig, string>;
const LINE_ENDS = ['any', 'LF', 'CR', 'CRLF', 'TAB'] as const satisfies readonly LineEndName[];
