import type { PackedPoints, PackedReadings } from '../../gateway/model/packed-readings.js';
import { bytePermutation } from './decode.js';
import type { ReadPlan, ReadRequest } from './plan.js';
import { isBitTable, registerWidth, type RegisterEntry } from './schema.js';

/**
 * The read plan compiled a second time, at config load, for decoding straight from the answer's
 * bytes: per request, the point names/units (`PackedPoints`) and one reader per point that takes
 * its value out of the data bytes (big-endian registers, or packed bits) without building a
 * word array or a `{ value, quality }` object. Same semantics as decode.ts (byte/word order,
 * scale/offset, bit, bool), which stays the reference for the rare paths (a value that decodes
 * bad, an error).
 */
export type ByteReader = (data: Buffer) => number | boolean;

export interface CompiledRequest {
  readonly request: ReadRequest;
  readonly points: PackedPoints;
  readonly readers: readonly ByteReader[];
  /** Some point can decode to a non-finite value (float, scaled): check before packing. */
  readonly mayBeBad: boolean;
}

export function compileRequests(plan: ReadPlan, registers: readonly RegisterEntry[]): CompiledRequest[] {
  const byName = new Map(registers.map((r) => [r.name, r]));
  return plan.requests.map((request) => {
    const entries = request.points.map((p) => {
      const r = byName.get(p.name);
      if (r === undefined) throw new Error(`compiled plan: point "${p.name}" is not in the register map`);
      return r;
    });
    return {
      request,
      points: { names: entries.map((r) => r.name), units: entries.map((r) => r.unit) },
      readers: entries.map((r) => byteReader(r, r.address - request.address)),
      mayBeBad: entries.some((r) => r.type === 'float32' || r.type === 'float64' || r.scale !== 1 || r.offset !== 0),
    };
  });
}

/** Reader of one point whose first register/bit is `at` within the request. */
export function byteReader(r: RegisterEntry, at: number): ByteReader {
  if (isBitTable(r.table)) return (d) => (d[at >> 3]! & (1 << (at & 7))) !== 0;
  const off = at * 2;
  const raw = rawReader(r, off);
  if (r.type === 'bool' || r.type === 'bit') return raw;
  const { scale, offset } = r;
  if (scale === 1 && offset === 0) return raw;
  return (d) => (raw(d) as number) * scale + offset;
}

function rawReader(r: RegisterEntry, off: number): ByteReader {
  switch (r.type) {
    case 'bool':
      return (d) => (d[off]! | d[off + 1]!) !== 0;
    case 'bit': {
      const mask = 1 << (r.bit ?? 0);
      return (d) => (((d[off]! << 8) | d[off + 1]!) & mask) !== 0;
    }
    case 'uint16':
      return r.byteOrder === 'big' ? (d) => (d[off]! << 8) | d[off + 1]! : (d) => (d[off + 1]! << 8) | d[off]!;
    case 'int16':
      return r.byteOrder === 'big' ? (d) => d.readInt16BE(off) : (d) => d.readInt16LE(off);
    default:
      break;
  }
  const width = registerWidth(r.type);
  if (r.byteOrder === 'big' && r.wordOrder === 'big') {
    switch (r.type) {
      case 'int32':
        return (d) => d.readInt32BE(off);
      case 'uint32':
        return (d) => d.readUInt32BE(off);
      case 'float32':
        return (d) => d.readFloatBE(off);
      case 'float64':
        return (d) => d.readDoubleBE(off);
    }
  }
  // Other orders: gather the bytes into big-endian order in a scratch buffer (readers run
  // synchronously, so one per point is never shared mid-use).
  const perm = bytePermutation(width, r.byteOrder, r.wordOrder).map(([reg, b]) => off + reg * 2 + b);
  const scratch = Buffer.alloc(8);
  const gather = (d: Buffer) => {
    for (let k = 0; k < perm.length; k++) scratch[k] = d[perm[k]!]!;
  };
  switch (r.type) {
    case 'int32':
      return (d) => (gather(d), scratch.readInt32BE(0));
    case 'uint32':
      return (d) => (gather(d), scratch.readUInt32BE(0));
    case 'float32':
      return (d) => (gather(d), scratch.readFloatBE(0));
    default:
      return (d) => (gather(d), scratch.readDoubleBE(0));
  }
}

/** True when every point of the request decodes to a usable value (finite). */
export function allGood(c: CompiledRequest, data: Buffer): boolean {
  if (!c.mayBeBad) return true;
  for (const read of c.readers) {
    const v = read(data);
    if (typeof v === 'number' && !Number.isFinite(v)) return false;
  }
  return true;
}

/** One request's answer as packed readings: values are read from `data` when encoded. */
export class PackedAnswer implements PackedReadings {
  readonly points: PackedPoints;
  readonly count: number;

  constructor(
    private readonly compiled: CompiledRequest,
    private readonly data: Buffer,
    readonly ts: number,
  ) {
    this.points = compiled.points;
    this.count = compiled.readers.length;
  }

  value(i: number): number | boolean {
    return this.compiled.readers[i]!(this.data);
  }
}
