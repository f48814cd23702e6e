import type { ModbusLink } from './connection.js';
import { bytePermutation, compileDecoder } from './decode.js';
import type { ModbusError } from './errors.js';
import { blockOf } from './pdu/response.js';
import { byteOrders, isBitTable, manualOrderOf, MAX_BITS_PER_REQUEST, MAX_REGISTERS_PER_REQUEST, type ManualOrder, type ModbusTable, type ModbusValueType } from './schema.js';

/**
 * `edge-gateway probe modbus`: which units answer, and what their registers look like decoded
 * every plausible way, so a technician can pick type/byteOrder/wordOrder by recognising a value.
 * Transport-agnostic: give it a link from connection.ts (the daemon's own TCP or RTU transport).
 *
 * A unit "answers" when it returns data or a Modbus exception (it exists, it just dislikes the
 * request). Silence and gateway exceptions 10/11 (the gateway has no such unit) mean absent.
 */

export interface ProbeOptions {
  link: ModbusLink;
  /** Inclusive range, or an explicit list of unit ids. */
  unitRange: { from: number; to: number } | readonly number[];
  address: number;
  count: number;
  table: ModbusTable;
  /** Per-unit answer timeout; keep it short for a sweep (default 300 ms). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ProbeDecoding {
  address: number;
  type: ModbusValueType;
  byteOrder: 'big' | 'little';
  wordOrder: 'big' | 'little';
  /** The manual's name for byteOrder + wordOrder (`order:` in a register entry). */
  order: ManualOrder;
  /** null when the bytes are not a finite number of this type (e.g. NaN as float32). */
  value: number | null;
  /** Set when a float decoding is unlikely to be what the device means (see `implausibility`). */
  implausible?: Implausibility;
}

/**
 * Why a float decoding is unlikely to be a measurement: the wrong byte order of a real value
 * usually lands on a NaN, a denormal, or an absurd magnitude. Integers are exact and not judged.
 */
export type Implausibility = 'NaN' | 'Infinity' | '-Infinity' | 'denormal' | 'huge' | 'tiny';
/** Beyond these magnitudes no field device reports a value (counters in Wh stay far below 1e15). */
export const PLAUSIBLE_MAX = 1e15;
export const PLAUSIBLE_MIN = 1e-9;
const SMALLEST_NORMAL = { float32: 2 ** -126, float64: 2 ** -1022 } as const;

export function implausibility(type: 'float32' | 'float64', x: number): Implausibility | undefined {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  const m = Math.abs(x);
  if (m === 0) return undefined;
  if (m < SMALLEST_NORMAL[type]) return 'denormal';
  if (m >= PLAUSIBLE_MAX) return 'huge';
  if (m < PLAUSIBLE_MIN) return 'tiny';
  return undefined;
}

/** The float the bytes hold, NaN and infinities included (the driver's decoder maps those to bad). */
function rawFloat(registers: readonly number[], at: number, type: 'float32' | 'float64', byteOrder: 'big' | 'little', wordOrder: 'big' | 'little'): number {
  const perm = bytePermutation(type === 'float32' ? 2 : 4, byteOrder, wordOrder);
  const view = new DataView(new ArrayBuffer(8));
  perm.forEach(([r, b], k) => view.setUint8(k, b === 0 ? registers[at + r]! >> 8 : registers[at + r]! & 0xff));
  return type === 'float32' ? view.getFloat32(0) : view.getFloat64(0);
}

export type ProbeUnitResult =
  | { unitId: number; status: 'data'; registers: number[]; decodings: ProbeDecoding[] }
  | { unitId: number; status: 'data'; bits: boolean[] }
  | { unitId: number; status: 'exception'; error: { code: string; message: string } };

export interface ProbeResult {
  answered: ProbeUnitResult[];
  /** Units that stayed silent or that a gateway reported absent, with the reason code. */
  absent: Array<{ unitId: number; code: string }>;
}

export class ProbeOptionsError extends Error {
  readonly code = 'PROBE_OPTIONS';
}

export async function probeModbus(opts: ProbeOptions): Promise<ProbeResult> {
  const r = opts.unitRange;
  const units = 'from' in r ? rangeOf(r.from, r.to) : [...r];
  if (units.length === 0) throw new ProbeOptionsError('probe unit range is empty');
  const max = isBitTable(opts.table) ? MAX_BITS_PER_REQUEST : MAX_REGISTERS_PER_REQUEST;
  if (!Number.isInteger(opts.count) || opts.count < 1 || opts.count > max) {
    throw new ProbeOptionsError(`probe count ${opts.count} must be 1..${max} for the ${opts.table} table`);
  }
  if (!Number.isInteger(opts.address) || opts.address < 0 || opts.address + opts.count > 65536) {
    throw new ProbeOptionsError(`probe address ${opts.address}+${opts.count} must lie within 0..65535`);
  }
  for (const u of units) {
    if (!Number.isInteger(u) || u < 0 || u > 255) throw new ProbeOptionsError(`probe unit id ${u} is not 0..255`);
  }

  const result: ProbeResult = { answered: [], absent: [] };
  const signal = opts.signal ?? new AbortController().signal;
  for (const unitId of units) {
    if (signal.aborted) break;
    try {
      const bytes = await opts.link.read(unitId, opts.table, opts.address, opts.count, opts.timeoutMs ?? 300, signal);
      const data = blockOf(opts.table, opts.count, bytes);
      if (isBitTable(opts.table)) {
        result.answered.push({ unitId, status: 'data', bits: data.map(Boolean) });
      } else {
        const registers = data.map(Number);
        result.answered.push({ unitId, status: 'data', registers, decodings: decodeEveryWay(registers, opts.address) });
      }
    } catch (err) {
      const e = err as ModbusError;
      if (e.kind === 'exception' && e.exceptionCode !== 10 && e.exceptionCode !== 11) {
        result.answered.push({ unitId, status: 'exception', error: { code: e.code, message: e.message } });
      } else {
        result.absent.push({ unitId, code: e.code });
      }
    }
  }
  return result;
}

function rangeOf(first: number, last: number): number[] {
  for (const end of [first, last]) {
    if (!Number.isInteger(end) || end < 0 || end > 255) throw new ProbeOptionsError(`probe unit id ${end} is not 0..255`);
  }
  const out: number[] = [];
  for (let u = first; u <= last; u++) out.push(u);
  return out;
}

const WIDE_TYPES = [
  ['int32', 2],
  ['uint32', 2],
  ['float32', 2],
  ['float64', 4],
] as const;

/** Every type at every register offset, in every byte and word order that changes the result. */
export function decodeEveryWay(registers: readonly number[], firstAddress: number): ProbeDecoding[] {
  const out: ProbeDecoding[] = [];
  const push = (at: number, type: ModbusValueType, byteOrder: 'big' | 'little', wordOrder: 'big' | 'little') => {
    const d = compileDecoder({ table: 'holding', type, byteOrder, wordOrder, scale: 1, offset: 0 }, at)(registers);
    const decoding: ProbeDecoding = { address: firstAddress + at, type, byteOrder, wordOrder, order: manualOrderOf(byteOrder, wordOrder), value: typeof d.value === 'number' ? d.value : null };
    if (type === 'float32' || type === 'float64') {
      const why = implausibility(type, rawFloat(registers, at, type, byteOrder, wordOrder));
      if (why !== undefined) decoding.implausible = why;
    }
    out.push(decoding);
  };
  for (let at = 0; at < registers.length; at++) {
    for (const byteOrder of byteOrders) {
      push(at, 'uint16', byteOrder, 'big');
      push(at, 'int16', byteOrder, 'big');
    }
    for (const [type, width] of WIDE_TYPES) {
      if (at + width > registers.length) continue;
      for (const byteOrder of byteOrders) for (const wordOrder of byteOrders) push(at, type, byteOrder, wordOrder);
    }
  }
  return out;
}
