import { probeSerial, type SerialProbeOptions } from './probe.js';
import type { LineEndName, TerminatorConfig } from './terminator.js';
import type { ProbeTerminal } from '../../probe-terminal.js';
import type { ProbeArgs } from '../../probe-verb.js';

/**
 * `edge-gateway probe serial`: what arrives on a serial port, one timestamped line at a time,
 * until Ctrl-C — to check wiring, baud rate and framing before writing a device file. Open
 * failures (missing, permission, held by the daemon) are SerialPortErrors with plain messages.
 */
export interface ProbeSerialOptions {
  port: string;
  baud: number;
  parity: NonNullable<SerialProbeOptions['parity']>;
  dataBits: NonNullable<SerialProbeOptions['dataBits']>;
  stopBits: NonNullable<SerialProbeOptions['stopBits']>;
  terminator: TerminatorConfig;
  lines?: number;
  json?: boolean;
}

/** The verb's action: commander's flags (checked against probe-verb.ts's bounds) as options. */
export function runProbeSerialVerb(args: ProbeArgs, term: ProbeTerminal, signal: AbortSignal): Promise<number> {
  return runProbeSerial(
    {
      port: args.port as string,
      baud: args.baud as number,
      parity: args.parity as ProbeSerialOptions['parity'],
      dataBits: Number(args.dataBits) as ProbeSerialOptions['dataBits'],
      stopBits: Number(args.stopBits) as ProbeSerialOptions['stopBits'],
      terminator: (args.delimiter ?? args.terminator) as LineEndName,
      lines: args.lines as number | undefined,
      json: args.json as boolean | undefined,
    },
    term,
    signal,
  );
}

export async function runProbeSerial(opts: ProbeSerialOptions, term: ProbeTerminal, signal: AbortSignal): Promise<number> {
  const style = term.style;
  const lines = probeSerial({
    port: opts.port,
    baudRate: opts.baud,
    parity: opts.parity,
    dataBits: opts.dataBits,
    stopBits: opts.stopBits,
    terminator: opts.terminator,
    maxLines: opts.lines,
    signal,
  });
  if (process.stderr.isTTY && !opts.json) {
    process.stderr.write(`reading ${opts.port} at ${opts.baud} ${opts.dataBits}${opts.parity[0]!.toUpperCase()}${opts.stopBits} (Ctrl-C to stop)\n`);
  }
  for await (const line of lines) {
    if (opts.json) {
      process.stdout.write(`${term.json({ ts: line.ts, text: line.text, hex: line.bytes.toString('hex'), droppedOverlong: line.droppedOverlong })}\n`);
      continue;
    }
    if (line.droppedOverlong > 0) {
      process.stdout.write(`${style.paint('yellow', `(${line.droppedOverlong} overlong line(s) dropped: wrong baud rate or terminator?)`)}\n`);
    }
    process.stdout.write(`${term.clock(line.ts)}  ${term.escape(line.text)}
`);
  }
  return 0;
}
