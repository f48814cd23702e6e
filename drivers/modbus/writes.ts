import { z } from 'zod';
import type { WritablePoint, WriteRequest as PointRequest, WriteResult } from '../writable-point.js';
import { actionsOf, pulseBoundsSchema, WriteRefused, writablePolicySchema } from '../writable-point.js';
import { compileDecoder } from './decode.js';
import { encodeRegisters } from './encode.js';
import type { WriteRequest as PduWrite } from './pdu/request.js';
import { blockOf } from './pdu/response.js';
import { byteOrders, manualOrders, ORDER_SWITCHES, registerWidth, type ModbusTable } from './register-types.js';
import type { DecodeOptions } from './schema.js';

/**
 * Writable Modbus points (`writes:` in a modbus-tcp or modbus-rtu device file): coils and holding
 * registers, with the same type, byte/word order and scale as reads, so a value goes back to the
 * device exactly as it would be read. A value the register cannot hold exactly (a fraction for an
 * integer register, past the type's range) is refused, never rounded or clipped.
 */
const writableTypes = ['int16', 'uint16', 'int32', 'uint32', 'float32', 'float64', 'bool'] as const;

export const writeEntrySchema = writablePolicySchema
  .extend({
    table: z.enum(['holding', 'coil']).default('holding').describe('holding (written with FC6, or FC16 for 32/64-bit types) or coil (FC5). Only these tables can be written.'),
    address: z.number().int().min(0).max(65535).describe('On-the-wire 0-based address of the register (first register of a 32/64-bit value) or coil.'),
    type: z.enum(writableTypes).default('uint16').describe('Value type as for reads: int16/uint16/bool take 1 register, int32/uint32/float32 2, float64 4. A coil is bool. Default uint16.'),
    order: z.enum(manualOrders).optional().describe('Byte/word order by the manual\'s name (ABCD, CDAB, BADC, DCBA), as for reads.'),
    byteOrder: z.enum(byteOrders).optional().describe('Order of the two bytes in each register, as for reads. Default big.'),
    wordOrder: z.enum(byteOrders).optional().describe('Order of the registers of a 32/64-bit value, as for reads. Default big.'),
    scale: z.number().refine((s) => s !== 0, 'scale must not be 0').default(1).describe('Engineering value = raw x scale + offset, as for reads; a command\'s value is converted back with it. Default 1.'),
    offset: z.number().default(0).describe('Added after scale, as for reads. Default 0.'),
    pulse: pulseBoundsSchema
      .optional()
      .describe('Coils only: allow the pulse action (on for durationMs, then off), e.g. a barrier controller\'s open input.'),
    pulseOnly: z.boolean().default(false).describe('Coils only: allow only pulses, never a write that would leave the coil on. Needs pulse. Default false.'),
  })
  .strict()
  .superRefine((w, ctx) => {
    if (w.table === 'coil' && w.type !== 'bool') ctx.addIssue({ code: 'custom', path: ['type'], message: `a coil holds one bit: type must be bool, not ${w.type}` });
    if (w.table !== 'coil' && (w.pulse !== undefined || w.pulseOnly)) ctx.addIssue({ code: 'custom', path: ['pulse'], message: 'pulse applies to coils only' });
    if (w.pulseOnly && w.pulse === undefined) ctx.addIssue({ code: 'custom', path: ['pulseOnly'], message: 'pulseOnly needs pulse' });
    if (w.address + registerWidth(w.type) - 1 > 65535) ctx.addIssue({ code: 'custom', path: ['address'], message: `${w.type} at ${w.address} would end past register 65535` });
    if (w.order !== undefined) {
      const implied = ORDER_SWITCHES[w.order];
      for (const key of ['byteOrder', 'wordOrder'] as const) {
        if (w[key] !== undefined && w[key] !== implied[key]) ctx.addIssue({ code: 'custom', path: [key], message: `order ${w.order} means ${key} ${implied[key]}, not ${w[key]}` });
      }
    }
  })
  .transform(({ order, ...w }) => {
    const implied = ORDER_SWITCHES[order ?? 'ABCD'];
    return { ...w, byteOrder: w.byteOrder ?? implied.byteOrder, wordOrder: w.wordOrder ?? implied.wordOrder };
  });

export type WriteEntry = z.output<typeof writeEntrySchema>;

export const writesSchema = z
  .array(writeEntrySchema)
  .max(256)
  .default([])
  .superRefine((entries, ctx) => {
    const seen = new Set<string>();
    entries.forEach((e, i) => {
      if (seen.has(e.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate writable point "${e.name}"` });
      seen.add(e.name);
    });
  })
  .describe('Points the command channel may write (docs/commands.md): coils and holding registers. Nothing else on the device is writable.');

const INT_RANGES: Partial<Record<WriteEntry['type'], [number, number]>> = {
  int16: [-0x8000, 0x7fff],
  uint16: [0, 0xffff],
  int32: [-0x80000000, 0x7fffffff],
  uint32: [0, 0xffffffff],
};
const FLOAT32_MAX = 3.4028234663852886e38;

/** The raw value to put in the register(s), or why the point cannot hold `value` exactly. */
export function rawFor(w: WriteEntry, value: number | boolean): number | boolean | string {
  if (w.type === 'bool') return typeof value === 'boolean' ? value : `wrong-type: point "${w.name}" takes true or false`;
  if (typeof value !== 'number') return `wrong-type: point "${w.name}" takes a number`;
  const raw = (value - w.offset) / w.scale;
  const range = INT_RANGES[w.type];
  if (range) {
    const rounded = Math.round(raw);
    // Scaling in binary floating point: 21.5 / 0.1 is 214.99999999999997; that is 215, exactly meant.
    if (Math.abs(raw - rounded) > 1e-9 * Math.max(1, Math.abs(raw))) {
      return `not-representable: ${value} is not a whole number of steps of ${w.scale} (raw ${raw}) for ${w.type} point "${w.name}"`;
    }
    if (rounded < range[0] || rounded > range[1]) return `out-of-range: raw ${rounded} is outside ${w.type} (${range[0]}..${range[1]}) for point "${w.name}"`;
    return rounded;
  }
  if (w.type === 'float32' && Math.abs(raw) > FLOAT32_MAX) return `out-of-range: ${value} is beyond float32 for point "${w.name}"`;
  return raw;
}

/** The PDU that puts `raw` into the point: FC5 for a coil, FC6 for one register, FC16 for more. */
export function pduFor(w: WriteEntry, raw: number | boolean): PduWrite {
  if (w.table === 'coil') return { op: 'write-coil', address: w.address, value: raw === true };
  const words = encodeRegisters(w, w.type === 'bool' ? (raw ? 1 : 0) : raw);
  return words.length === 1 ? { op: 'write-register', address: w.address, value: words[0]! } : { op: 'write-registers', address: w.address, values: words };
}

/** How the point is read back: its table, address and width, decoded as a read of it would be. */
function readBackOf(w: WriteEntry): { table: ModbusTable; address: number; count: number; decode(data: Buffer): number | boolean | null } {
  const opts: DecodeOptions = { table: w.table, type: w.type, byteOrder: w.byteOrder, wordOrder: w.wordOrder, scale: w.scale, offset: w.offset };
  const decoder = compileDecoder(opts, 0);
  const count = registerWidth(w.type);
  return { table: w.table, address: w.address, count, decode: (data) => decoder(blockOf(w.table, count, data)).value };
}

/** The writable points a Modbus device file declares, for the command channel. */
export function modbusWritablePoints(deviceId: string, writes: readonly WriteEntry[]): WritablePoint[] {
  return writes.map((w) => ({
    device: deviceId,
    policy: w,
    actions: actionsOf(w),
    ...(w.pulse && { pulse: w.pulse }),
    valueType: w.type === 'bool' ? 'boolean' : 'number',
    validate: (r: PointRequest) => {
      if (r.action !== 'write') return null;
      const raw = rawFor(w, r.value);
      return typeof raw === 'string' ? raw : null;
    },
  }));
}

/** What a Modbus driver lends the writer: its own transport, in the bus's or connection's order. */
export interface ModbusIo {
  writePdu(req: PduWrite): Promise<void>;
  readPdu(table: ModbusTable, address: number, count: number): Promise<Buffer>;
}

/**
 * Carries out a checked command on one Modbus device: converts, writes, pulses, reads back.
 * Shared by the TCP and RTU drivers, which differ only in their `ModbusIo`.
 */
export class ModbusPointWriter {
  private readonly points: Map<string, WriteEntry>;

  constructor(writes: readonly WriteEntry[], private readonly describe: string) {
    this.points = new Map(writes.map((w) => [w.name, w]));
  }

  async write(io: ModbusIo, point: string, request: PointRequest): Promise<WriteResult> {
    const w = this.points.get(point);
    if (!w) throw new WriteRefused('not-declared', `${this.describe} has no writable point "${point}"`);
    if (request.action === 'pulse') {
      await io.writePdu(pduFor(w, true));
      await new Promise((r) => setTimeout(r, request.durationMs));
      // The coil is on until this goes through: a failure here is reported as the outcome.
      await io.writePdu(pduFor(w, false));
      return {};
    }
    const raw = rawFor(w, request.value);
    if (typeof raw === 'string') throw new WriteRefused(raw.slice(0, raw.indexOf(':')), raw.slice(raw.indexOf(':') + 2));
    await io.writePdu(pduFor(w, raw));
    if (!w.readBack) return {};
    const rb = readBackOf(w);
    const readBack = rb.decode(await io.readPdu(rb.table, rb.address, rb.count));
    if (readBack === null) throw Object.assign(new Error(`${this.describe}: point "${point}" was written but reads back as no valid value`), { code: 'READBACK_BAD' });
    // What a read of the point shows for the value written (float32 rounding, scale steps).
    const expected = w.type === 'bool' ? raw === true : (rb.decode(encodeBack(w, raw as number)) ?? Number.NaN);
    return { readBack, expected };
  }
}

/** The bytes a read of the point returns when it holds `raw`: the decode side of `pduFor`. */
function encodeBack(w: WriteEntry, raw: number): Buffer {
  const words = encodeRegisters(w, raw);
  const buf = Buffer.alloc(words.length * 2);
  words.forEach((word, i) => buf.writeUInt16BE(word, 2 * i));
  return buf;
}
