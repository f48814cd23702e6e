import { ModbusError } from '../errors.js';
import { isBitTable, type ModbusTable } from '../schema.js';

/**
 * The Modbus requests the gateway sends, as data, and their PDU bytes (function code + fields,
 * no unit id, no framing). One codec for every path: MBAP framing (tcp-transport.ts), RTU framing
 * (bus/rtu-frame.ts), `probe modbus` and doctor's answer check all build their requests here, so
 * what a technician probes is what the daemon runs. Responses are judged in response.ts.
 *
 * Limits are the spec's (Modbus Application Protocol V1.1b3, 6.1-6.12): they keep every PDU within
 * 253 bytes. A request outside them is the caller's mistake (or hostile input) and throws
 * EBADREQUEST before anything goes on the wire.
 */

export type PduRequest =
  /** FC 1 (coil), 2 (discrete), 3 (holding), 4 (input). */
  | { op: 'read'; table: ModbusTable; address: number; count: number }
  /** FC 5: one coil on or off. */
  | { op: 'write-coil'; address: number; value: boolean }
  /** FC 6: one holding register, 0..65535. */
  | { op: 'write-register'; address: number; value: number }
  /** FC 15: adjacent coils. */
  | { op: 'write-coils'; address: number; values: readonly boolean[] }
  /** FC 16: adjacent holding registers, 0..65535 each. */
  | { op: 'write-registers'; address: number; values: readonly number[] };

export type WriteRequest = Exclude<PduRequest, { op: 'read' }>;

export const READ_FUNCTION_CODES: Readonly<Record<ModbusTable, number>> = { coil: 1, discrete: 2, holding: 3, input: 4 };
const WRITE_FUNCTION_CODES = { 'write-coil': 5, 'write-register': 6, 'write-coils': 15, 'write-registers': 16 } as const;

/** Most items one request may carry, per the spec. */
export const PDU_LIMITS = { readBits: 2000, readRegisters: 125, writeCoils: 1968, writeRegisters: 123 } as const;

export function functionCodeOf(req: PduRequest): number {
  return req.op === 'read' ? READ_FUNCTION_CODES[req.table] : WRITE_FUNCTION_CODES[req.op];
}

/** What the request is, for error messages: "read holding 10+2 from unit 1". */
export function describeRequest(req: PduRequest, unitId: number): string {
  switch (req.op) {
    case 'read':
      return `read ${req.table} ${req.address}+${req.count} from unit ${unitId}`;
    case 'write-coil':
    case 'write-register':
      return `write ${req.op === 'write-coil' ? 'coil' : 'holding'} ${req.address} = ${String(req.value)} to unit ${unitId}`;
    case 'write-coils':
    case 'write-registers':
      return `write ${req.op === 'write-coils' ? 'coil' : 'holding'} ${req.address}+${req.values.length} to unit ${unitId}`;
  }
}

/** Items (bits or registers) the request covers. */
function itemCount(req: PduRequest): number {
  switch (req.op) {
    case 'read':
      return req.count;
    case 'write-coil':
    case 'write-register':
      return 1;
    default:
      return req.values.length;
  }
}

/** Data bytes a read's answer carries: bits packed 8 to a byte, registers 2 bytes each. */
export function readDataBytes(table: ModbusTable, count: number): number {
  return isBitTable(table) ? Math.ceil(count / 8) : count * 2;
}

/** Bytes of the request PDU. */
export function requestPduLength(req: PduRequest): number {
  switch (req.op) {
    case 'write-coils':
      return 6 + Math.ceil(req.values.length / 8);
    case 'write-registers':
      return 6 + req.values.length * 2;
    default:
      return 5;
  }
}

/** Throws EBADREQUEST if the request breaks the spec's limits; otherwise does nothing. */
export function checkRequest(req: PduRequest, unitId: number): void {
  const bad = (why: string) => new ModbusError('EBADREQUEST', `${describeRequest(req, unitId)}: ${why}`, 'other');
  if (!Number.isInteger(unitId) || unitId < 0 || unitId > 255) throw bad(`unit id must be 0..255`);
  const count = itemCount(req);
  const max =
    req.op === 'read'
      ? isBitTable(req.table)
        ? PDU_LIMITS.readBits
        : PDU_LIMITS.readRegisters
      : req.op === 'write-coils'
        ? PDU_LIMITS.writeCoils
        : req.op === 'write-registers'
          ? PDU_LIMITS.writeRegisters
          : 1;
  if (!Number.isInteger(count) || count < 1 || count > max) throw bad(`count ${count} must be 1..${max}`);
  if (!Number.isInteger(req.address) || req.address < 0 || req.address + count > 65536) throw bad(`address range must lie within 0..65535`);
  const words = req.op === 'write-register' ? [req.value] : req.op === 'write-registers' ? req.values : [];
  for (const w of words) if (!Number.isInteger(w) || w < 0 || w > 0xffff) throw bad(`register value ${w} must be an integer 0..65535`);
  const bits = req.op === 'write-coil' ? [req.value] : req.op === 'write-coils' ? req.values : [];
  for (const b of bits) if (typeof b !== 'boolean') throw bad(`coil value ${String(b)} must be true or false`);
}

/**
 * Writes the request PDU into `buf` at `at` (requestPduLength(req) bytes), so a framing layer
 * can put its header and trailer around it in one buffer. Checks the request first.
 */
export function writeRequestPdu(req: PduRequest, unitId: number, buf: Buffer, at: number): void {
  checkRequest(req, unitId);
  buf[at] = functionCodeOf(req);
  buf.writeUInt16BE(req.address, at + 1);
  switch (req.op) {
    case 'read':
      buf.writeUInt16BE(req.count, at + 3);
      return;
    case 'write-coil':
      // The spec's only two values: FF00 on, 0000 off.
      buf.writeUInt16BE(req.value ? 0xff00 : 0x0000, at + 3);
      return;
    case 'write-register':
      buf.writeUInt16BE(req.value, at + 3);
      return;
    case 'write-coils': {
      const bytes = Math.ceil(req.values.length / 8);
      buf.writeUInt16BE(req.values.length, at + 3);
      buf[at + 5] = bytes;
      buf.fill(0, at + 6, at + 6 + bytes);
      req.values.forEach((on, i) => {
        if (on) buf[at + 6 + (i >> 3)]! |= 1 << (i & 7);
      });
      return;
    }
    case 'write-registers':
      buf.writeUInt16BE(req.values.length, at + 3);
      buf[at + 5] = req.values.length * 2;
      req.values.forEach((w, i) => buf.writeUInt16BE(w, at + 6 + i * 2));
      return;
  }
}

/** The request PDU on its own (probe, tests); the transports frame it in place with writeRequestPdu. */
export function encodeRequestPdu(req: PduRequest, unitId: number): Buffer {
  const buf = Buffer.alloc(requestPduLength(req));
  writeRequestPdu(req, unitId, buf, 0);
  return buf;
}
