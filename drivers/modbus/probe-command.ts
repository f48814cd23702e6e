import { ModbusError } from './errors.js';
import { PLAUSIBLE_MAX, PLAUSIBLE_MIN, probeModbus, type ProbeDecoding, type ProbeUnitResult } from './probe.js';
import { ORDER_SWITCHES, registerWidth, type ManualOrder, type ModbusTable } from './schema.js';
import { openModbusRtu, openModbusTcp, type ModbusLink, type RtuLine } from './connection.js';
import { ProbeError, type ProbeTerminal } from '../probe-terminal.js';

/**
 * `edge-gateway probe modbus`: sweep unit ids (and optionally baud rates) on a Modbus line or TCP
 * device, and for every unit that answers print the raw registers and every plausible decoding,
 * so the technician can spot "21.5" and copy its address, type and order into the device file.
 */

export interface ProbeModbusOptions {
  port?: string;
  host?: string;
  tcpPort: number;
  baud: number;
  bauds?: number[];
  parity: RtuLine['parity'];
  dataBits: RtuLine['dataBits'];
  stopBits: RtuLine['stopBits'];
  units: number[];
  register: number;
  count: number;
  table: ModbusTable;
  timeoutMs: number;
  json?: boolean;
}

export interface ProbeSweep {
  transport: string;
  baud?: number;
  answered: ProbeUnitResult[];
  absent: Array<{ unitId: number; code: string }>;
}

/** "1-247", "5", "1,2,10-12" → unit ids; Modbus allows 0..247 for devices (0 is broadcast, excluded). */
export function parseUnits(text: string): number[] {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new ProbeError('BAD_OPTION', `--unit "${text}": expected a unit id, a range like 1-247, or a list like 1,2,5`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (from < 1 || to > 247 || from > to) throw new ProbeError('BAD_OPTION', `--unit "${part.trim()}": unit ids are 1..247, low-high`);
    for (let u = from; u <= to; u++) out.add(u);
  }
  return [...out];
}

/** Columns in the README's order; each header is the line that selects it in a register entry. */
const COLUMNS: readonly ManualOrder[] = ['ABCD', 'CDAB', 'BADC', 'DCBA'];

/**
 * Floats always look like floats (21.0, 2.309426e+18), so a wrong decoding cannot pass for a
 * counter; integers print exactly. Implausible float decodings carry a `?`.
 */
export function showValue(d: ProbeDecoding): string {
  const mark = d.implausible === undefined ? '' : ' ?';
  if (d.value === null) return `${d.implausible === 'Infinity' ? 'Inf' : d.implausible === '-Infinity' ? '-Inf' : 'NaN'}${mark}`;
  if (d.type !== 'float32' && d.type !== 'float64') return String(d.value);
  return `${formatFloat(d.value, d.type === 'float64' ? 15 : 7)}${mark}`;
}

export function formatFloat(v: number, digits: number): string {
  const m = Math.abs(v);
  if (m !== 0 && (m >= 1e7 || m < 1e-4)) return v.toExponential(digits - 1).replace(/\.?0+e/, 'e');
  const text = String(Number(v.toPrecision(digits)));
  return text.includes('.') || text.includes('e') ? text : `${text}.0`;
}

/**
 * One row per (address, type), one column per manual order. A 16-bit type has no word order, so
 * CDAB shows what ABCD shows and DCBA what BADC shows: whichever column the technician picks, its
 * header is a correct config line for that row.
 */
export function renderDecodings(decodings: readonly ProbeDecoding[], term: ProbeTerminal): string {
  const style = term.style;
  const rows: string[][] = [];
  const byRow = new Map<string, ProbeDecoding[]>();
  for (const d of decodings) {
    const key = `${d.address}:${d.type}`;
    byRow.set(key, [...(byRow.get(key) ?? []), d]);
  }
  for (const list of byRow.values()) {
    const first = list[0]!;
    const cells = COLUMNS.map((order) => {
      const { byteOrder } = ORDER_SWITCHES[order];
      const hit = list.find((d) => d.order === order) ?? list.find((d) => d.byteOrder === byteOrder && registerWidth(d.type) === 1);
      if (!hit) return '';
      const text = showValue(hit);
      return hit.implausible === undefined ? text : style.paint('dim', text);
    });
    rows.push([String(first.address), first.type, ...cells]);
  }
  return term.table(['address', 'type', ...COLUMNS.map((o) => `order: ${o}`)], rows);
}

/** How to turn a row and a column into a register entry, and what the marks mean. */
export function pasteHint(opts: Pick<ProbeModbusOptions, 'table' | 'count'>, decodings: readonly ProbeDecoding[]): string {
  const entry = (address: string, type: string, order: string) => `- { name: my_point, table: ${opts.table}, address: ${address}, type: ${type}, order: ${order} }`;
  const lines: string[] = [];
  const found = singlePlausibleFloats(decodings);
  if (found.length > 0) {
    lines.push('Floats that read as a plausible number in one order only; if the value is what the device shows, paste:');
    for (const d of found.slice(0, 6)) lines.push(`  ${entry(String(d.address), d.type, d.order)}   # ${showValue(d)}`);
  }
  lines.push(
    `To use ${found.length > 0 ? 'any other' : 'a'} value, copy its address, type and column into the device file's registers:`,
    `  ${entry('<address>', '<type>', '<column>')}`,
    'order: is the manual\'s name; it stands for byteOrder (bytes in a register) + wordOrder (registers of a value):',
    ...COLUMNS.map((o) => `  order: ${o}  =  byteOrder: ${ORDER_SWITCHES[o].byteOrder.padEnd(6)}  wordOrder: ${ORDER_SWITCHES[o].wordOrder}`),
  );
  if (decodings.some((d) => d.implausible !== undefined)) {
    lines.push(`? = unlikely to be a reading (NaN, Inf, denormal, |x| >= ${PLAUSIBLE_MAX.toExponential()} or < ${PLAUSIBLE_MIN.toExponential()}): probably the wrong type or order`);
  }
  if (!decodings.some((d) => d.type === 'float64')) {
    lines.push(`float64 (64-bit) spans 4 registers: probe with --count 4 to see it decoded${opts.count < 4 ? ` (this probe read ${opts.count})` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Float rows where exactly one order gives a non-zero plausible value: the likely right line. */
function singlePlausibleFloats(decodings: readonly ProbeDecoding[]): ProbeDecoding[] {
  const byRow = new Map<string, ProbeDecoding[]>();
  for (const d of decodings) {
    if (d.type !== 'float32' && d.type !== 'float64') continue;
    if (d.implausible !== undefined || d.value === null || d.value === 0) continue;
    const key = `${d.address}:${d.type}`;
    byRow.set(key, [...(byRow.get(key) ?? []), d]);
  }
  return [...byRow.values()].filter((l) => l.length === 1).map((l) => l[0]!);
}

export function renderUnit(u: ProbeUnitResult, opts: Pick<ProbeModbusOptions, 'register' | 'count' | 'table'>, term: ProbeTerminal): string {
  const style = term.style;
  const range = opts.count > 1 ? `${opts.register}..${opts.register + opts.count - 1}` : String(opts.register);
  if (u.status === 'exception') return `${style.paint('yellow', `unit ${u.unitId} answered with an exception`)}: ${u.error.message} (${u.error.code})\n`;
  if ('bits' in u) return `${style.paint('green', `unit ${u.unitId} answered`)}: ${opts.table} ${range} = ${u.bits.map((b) => (b ? 1 : 0)).join(' ')}\n`;
  const hex = u.registers.map((r) => `0x${r.toString(16).padStart(4, '0')}`).join(' ');
  return `${style.paint('green', `unit ${u.unitId} answered`)}: ${opts.table} ${range} = ${hex}\n${renderDecodings(u.decodings, term)}\n${pasteHint(opts, u.decodings)}`;
}

export async function runProbeModbus(opts: ProbeModbusOptions, term: ProbeTerminal, signal: AbortSignal): Promise<number> {
  if ((opts.port === undefined) === (opts.host === undefined)) throw new ProbeError('BAD_OPTION', 'give either --port PATH (RTU) or --host HOST (TCP)');
  if (opts.host !== undefined && opts.bauds) throw new ProbeError('BAD_OPTION', '--bauds only applies to a serial line (--port)');
  const progress = process.stderr.isTTY === true && !opts.json;
  const sweeps: ProbeSweep[] = [];
  const bauds = opts.port !== undefined ? (opts.bauds ?? [opts.baud]) : [undefined];

  for (const baud of bauds) {
    if (signal.aborted) break;
    const transport = opts.host !== undefined ? `tcp ${opts.host}:${opts.tcpPort}` : `rtu ${opts.port} ${baud} ${opts.dataBits}${opts.parity[0]!.toUpperCase()}${opts.stopBits}`;
    const link = await open(opts, baud);
    const sweep: ProbeSweep = { transport, baud, answered: [], absent: [] };
    sweeps.push(sweep);
    if (!opts.json) process.stdout.write(`probing ${transport}: units ${describeUnits(opts.units)}, ${opts.table} ${opts.register}+${opts.count}\n`);
    try {
      for (const [i, unitId] of opts.units.entries()) {
        if (signal.aborted) break;
        if (progress) process.stderr.write(`\r  unit ${unitId} (${i + 1}/${opts.units.length})…  `);
        const r = await probeModbus({ link, unitRange: [unitId], address: opts.register, count: opts.count, table: opts.table, timeoutMs: opts.timeoutMs, signal });
        sweep.absent.push(...r.absent);
        for (const u of r.answered) {
          sweep.answered.push(u);
          if (progress) process.stderr.write('\r\x1b[K');
          if (!opts.json) process.stdout.write(renderUnit(term.safe(u), opts, term));
        }
        const lost = r.absent.find((a) => a.code !== 'ETIMEDOUT' && !a.code.startsWith('MODBUS_EXCEPTION') && a.code !== 'ECANCELED');
        if (lost) throw new ProbeError('PROBE_OPEN_FAILED', `probe stopped: the connection failed at unit ${lost.unitId} (${lost.code}); is something else using the device or did it drop the link?`);
      }
    } finally {
      if (progress) process.stderr.write('\r\x1b[K');
      await link.close();
    }
    if (!opts.json) {
      const ids = sweep.answered.map((u) => u.unitId);
      process.stdout.write(`${ids.length} unit(s) answered${ids.length ? `: ${ids.join(', ')}` : ''}; ${sweep.absent.length} silent${signal.aborted ? ' (interrupted)' : ''}\n`);
    }
  }
  if (opts.json) process.stdout.write(`${term.json(sweeps, 2)}\n`);
  if (!opts.json && bauds.length > 1) {
    const hits = sweeps.filter((s) => s.answered.length > 0).map((s) => s.baud);
    process.stdout.write(hits.length ? `units answered at ${hits.join(', ')} baud\n` : 'no unit answered at any baud rate: check wiring (A/B swapped?), parity, termination\n');
  }
  return sweeps.some((s) => s.answered.length > 0) ? 0 : 1;
}

async function open(opts: ProbeModbusOptions, baud: number | undefined): Promise<ModbusLink> {
  if (opts.host === undefined) {
    try {
      return await openModbusRtu(opts.port!, { baudRate: baud!, parity: opts.parity, dataBits: opts.dataBits, stopBits: opts.stopBits });
    } catch (err) {
      // The serial layer's message already says what to do (not found, busy, permission).
      if (err instanceof ModbusError) throw new ProbeError('PROBE_OPEN_FAILED', err.message, { cause: err });
      throw err;
    }
  }
  try {
    return await openModbusTcp(opts.host, opts.tcpPort, Math.max(opts.timeoutMs, 2000));
  } catch (err) {
    if (err instanceof ModbusError) {
      const why = err.code === 'ECONNREFUSED' ? `nothing listens on ${opts.host}:${opts.tcpPort} (is the device on, Modbus TCP enabled, the port right?)` : err.message;
      throw new ProbeError('PROBE_OPEN_FAILED', `cannot connect to ${opts.host}:${opts.tcpPort}: ${why}`, { cause: err });
    }
    throw err;
  }
}

function describeUnits(units: readonly number[]): string {
  if (units.length > 3 && units[units.length - 1]! - units[0]! === units.length - 1) return `${units[0]}-${units[units.length - 1]}`;
  return units.join(',');
}
