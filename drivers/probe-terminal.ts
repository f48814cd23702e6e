/**
 * What a family's probe command (`edge-gateway probe <family>`) is handed by the CLI to print
 * with, so a family can show a technician its findings without importing the technician
 * commands. The CLI decides colour (only on a terminal that wants it) and table layout.
 */
export type Colour = 'red' | 'green' | 'yellow' | 'cyan' | 'magenta' | 'gray' | 'bold' | 'dim';

export interface TextStyle {
  readonly colour: boolean;
  paint(colour: Colour, text: string): string;
}

export interface ProbeTerminal {
  /** The style for stdout. */
  style: TextStyle;
  /** Left-aligned columns; the header in bold. */
  table(header: readonly string[], rows: readonly (readonly string[])[]): string;
  /** Local wall-clock time with milliseconds, as a technician compares with a device display. */
  clock(ts: number): string;
  /** Device text with control characters made visible, so a device cannot drive the terminal. */
  escape(text: string): string;
  /** The same over every string of a value (a probe result holding device text). */
  safe<T>(value: T): T;
  /** JSON for a terminal: as JSON.stringify, with the control characters it leaves raw escaped. */
  json(value: unknown, indent?: number): string;
}

/** A probe failure whose message is meant to be printed as is: what went wrong and what to do. */
export class ProbeError extends Error {
  constructor(
    readonly code: 'BAD_OPTION' | 'PROBE_OPEN_FAILED',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ProbeError';
  }
}
