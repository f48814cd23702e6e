import type { ProbeTerminal } from './probe-terminal.js';

/**
 * What a family declares to get an `edge-gateway probe <name>` command: its flags with their
 * bounds, as data, and the action, loaded only when the command runs. The CLI (gateway/ops/
 * register.ts) turns the flags into commander options, so a new family's probe is written in the
 * family's folder and the technician commands never learn which families exist.
 */
export interface ProbeVerb {
  /** The word after `probe`: `edge-gateway probe modbus`. */
  name: string;
  description: string;
  options: readonly ProbeOption[];
  /**
   * Runs the probe with the parsed flags (commander's camelCase keys: `--tcp-port` is `tcpPort`)
   * and returns the exit code. Import the probe's code inside, so the CLI does not load it.
   */
  run(args: ProbeArgs, term: ProbeTerminal, signal: AbortSignal): Promise<number>;
}

/** The flags as parsed: integers already checked against their bounds, choices against their list. */
export type ProbeArgs = Readonly<Record<string, string | number | readonly number[] | boolean | undefined>>;

interface OptionBase {
  /** `--tcp-port`, or `-c, --config`. */
  flag: string;
  description: string;
}

export type ProbeOption =
  /** A free text value, e.g. `--port <path>`. */
  | (OptionBase & { kind: 'text'; value: string; required?: boolean; default?: string })
  /** An integer in [min, max]. */
  | (OptionBase & { kind: 'integer'; value: string; min: number; max: number; required?: boolean; default?: number })
  /** A comma-separated list of integers, each in [min, max]. */
  | (OptionBase & { kind: 'integers'; value: string; min: number; max: number })
  /** One of a fixed list; `hidden` keeps an old name working without showing it in the help. */
  | (OptionBase & { kind: 'choice'; value: string; choices: readonly string[]; default?: string; hidden?: boolean })
  /** On when given. */
  | (OptionBase & { kind: 'switch' });
