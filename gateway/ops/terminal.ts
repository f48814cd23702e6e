/**
 * Shared terminal rendering for the technician commands: colour (only on a TTY that wants it),
 * aligned tables, durations, sizes and a progress bar. Commands build strings with these and
 * write them once, so tests can render without a terminal.
 */

type Colour = 'red' | 'green' | 'yellow' | 'cyan' | 'magenta' | 'gray' | 'bold' | 'dim';

export interface Style {
  readonly colour: boolean;
  paint(colour: Colour, text: string): string;
}

/**
 * Colour only when writing to a terminal that can show it. `hasColors()` already honours NO_COLOR,
 * FORCE_COLOR, NODE_DISABLE_COLORS and TERM=dumb, so the CLI does not re-implement that.
 */
export function styleFor(stream: NodeJS.WriteStream): Style {
  const colour = stream.isTTY === true && typeof stream.hasColors === 'function' && stream.hasColors();
  return colour ? colourStyle : plainStyle;
}

export const plainStyle: Style = { colour: false, paint: (_c, text) => text };
/**
 * SGR open/close pairs. Written out rather than util.styleText: that appeared in Node 20.12 and its
 * stream check only later, while Node 20.11 was still admitted; on Node 24 either would do.
 */
const SGR: Record<Colour, [number, number]> = {
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  magenta: [35, 39],
  cyan: [36, 39],
  gray: [90, 39],
  bold: [1, 22],
  dim: [2, 22],
};
export const colourStyle: Style = { colour: true, paint: (c, text) => `\x1b[${SGR[c][0]}m${text}\x1b[${SGR[c][1]}m` };

/**
 * Characters a terminal acts on instead of printing: C0 controls (ESC starts colour, cursor and
 * title sequences), DEL, C1 controls (U+009B is a one-character CSI), Unicode line separators and
 * the bidi overrides that reorder what a technician reads. Printable Unicode is kept.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const CONTROL_EXCEPT_LINE_BREAK = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function visibleEscape(ch: string): string {
  const code = ch.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * Text a device or the network supplied, made safe to print: every control character becomes a
 * visible `\x1b`-style escape. `keepLineBreaks` for our own multi-line messages (doctor, errors).
 */
export function escapeControl(text: string, opts: { keepLineBreaks?: boolean } = {}): string {
  return text.replace(opts.keepLineBreaks ? CONTROL_EXCEPT_LINE_BREAK : CONTROL, visibleEscape);
}

/** `escapeControl` over every string (and key) of a JSON-like value: applied before rendering. */
export function terminalSafe<T>(value: T, opts: { keepLineBreaks?: boolean } = {}): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return escapeControl(v, opts);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [escapeControl(k, opts), walk(x)]));
    }
    return v;
  };
  return walk(value) as T;
}

/**
 * JSON for a terminal or a pipe: JSON.stringify already escapes C0, but leaves DEL, C1 and the
 * Unicode controls raw; they become \uXXXX, which is the same JSON value.
 */
export function jsonForTerminal(value: unknown, space?: number): string {
  // eslint-disable-next-line no-control-regex
  return JSON.stringify(value, null, space).replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Visible width: colour escapes take no columns. */
export function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, '').length;
}

function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - visibleLength(text)));
}

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], style: Style): string {
  const widths = header.map((h, i) => Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : pad(c, widths[i]!)))
      .join('  ')
      .trimEnd();
  return [style.paint('bold', line(header)), ...rows.map(line)].join('\n');
}

/** 3d 4h, 5m 12s, 42s, 850ms: the two largest units are enough to read at a glance. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  if (rest < 1000) return `${sign}${Math.round(rest)}ms`;
  rest = Math.round(rest / 1000);
  const units: [string, number][] = [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ];
  const parts: string[] = [];
  for (const [name, size] of units) {
    if (rest >= size || (parts.length === 0 && size === 1)) {
      parts.push(`${Math.floor(rest / size)}${name}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return sign + parts.join(' ');
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** Local wall-clock time with milliseconds: what a technician compares with a device display. */
export function formatClock(ts: number): string {
  const d = new Date(ts);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** `[#########-----------] 45%` for a fraction 0..1. */
export function progressBar(fraction: number, width = 30): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const done = Math.round(f * width);
  return `[${'#'.repeat(done)}${'-'.repeat(width - done)}] ${String(Math.floor(f * 100)).padStart(3)}%`;
}

/** Clears the screen and homes the cursor, for `--watch` redraws. */
export const CLEAR_SCREEN = '\x1b[H\x1b[2J';
