import { exceptionError, ModbusError } from '../errors.js';
import type { ModbusTable } from '../schema.js';
import { crcMatches, withCrc } from './crc16.js';

/**
 * RTU framing for the read functions (FC 1-4), written here rather than taken from
 * modbus-serial's RTU client because that client cannot tell the faults of a bus apart: its
 * buffered port scans for a frame that starts with the expected unit id and is exactly as long
 * as expected, so a reply from the wrong unit or a truncated reply is never delivered and ends
 * as a plain timeout, indistinguishable from a dead unit (modbus-serial ports/rtubufferedport.js).
 * A technician needs "unit 7 answers with CRC errors" (wiring, termination, baud) apart from
 * "unit 7 is silent" (power, address) apart from "unit 9 answers for unit 7" (duplicate address).
 *
 * A reply is judged as soon as it is as long as its own header says (5 bytes for an exception,
 * 5 + byte count otherwise); a reply that stops short is judged when the bus has gone quiet.
 */

export const FUNCTION_CODES: Readonly<Record<ModbusTable, number>> = { coil: 1, discrete: 2, holding: 3, input: 4 };

/** Stable codes for what a reply can be, and the per-unit counter each one increments. */
export const RTU_ERROR_COUNTERS = {
  ETIMEDOUT: 'timeouts',
  MODBUS_CRC_ERROR: 'crcErrors',
  MODBUS_SHORT_FRAME: 'shortFrames',
  MODBUS_WRONG_UNIT: 'wrongUnit',
  EBADRESPONSE: 'badFrames',
} as const;

export type RtuFrameCounter = (typeof RTU_ERROR_COUNTERS)[keyof typeof RTU_ERROR_COUNTERS] | 'exceptions';

export function counterFor(error: ModbusError): RtuFrameCounter | null {
  if (error.kind === 'exception') return 'exceptions';
  return (RTU_ERROR_COUNTERS as Record<string, RtuFrameCounter | undefined>)[error.code] ?? null;
}

export interface RtuReadRequest {
  unitId: number;
  table: ModbusTable;
  address: number;
  count: number;
}

export function encodeReadRequest(req: RtuReadRequest): Buffer {
  const body = Buffer.alloc(6);
  body[0] = req.unitId;
  body[1] = FUNCTION_CODES[req.table];
  body.writeUInt16BE(req.address, 2);
  body.writeUInt16BE(req.count, 4);
  return withCrc(body);
}

function dataBytes(req: RtuReadRequest): number {
  return req.table === 'coil' || req.table === 'discrete' ? Math.ceil(req.count / 8) : req.count * 2;
}

/** Length of a well-formed reply: unit, function, byte count, data, CRC. */
export function expectedReplyLength(req: RtuReadRequest): number {
  return 5 + dataBytes(req);
}

export type ReplyVerdict =
  | { kind: 'incomplete' }
  | { kind: 'data'; data: number[] | boolean[]; frameLength: number }
  | { kind: 'error'; error: ModbusError; frameLength: number };

function describe(req: RtuReadRequest): string {
  return `read ${req.table} ${req.address}+${req.count} from unit ${req.unitId}`;
}

/** The frame length a reply announces in its header, or null if it cannot tell yet. */
function announcedLength(req: RtuReadRequest, buf: Uint8Array): number | null {
  if (buf.length < 2) return null;
  const fc = FUNCTION_CODES[req.table];
  if (buf[1] === (fc | 0x80)) return 5;
  if (buf[1] === fc && buf.length >= 3) return 5 + buf[2]!;
  return null;
}

/**
 * Judge the bytes received so far for `req`. With `final` false the reply may still grow;
 * with `final` true (the bus went quiet or the timeout passed) what is here is all there is.
 * An empty final buffer is not judged here: silence is the caller's timeout.
 */
export function judgeReply(req: RtuReadRequest, buf: Uint8Array, final: boolean): ReplyVerdict {
  const context = describe(req);
  const announced = announcedLength(req, buf);
  if (announced !== null && buf.length >= announced) return judgeFrame(req, buf.subarray(0, announced), context);
  if (!final) return { kind: 'incomplete' };
  // A complete frame of some other shape (another unit's reply to something else) still carries
  // a valid CRC; anything else that stopped early is a truncated frame.
  if (buf.length >= 4 && crcMatches(buf)) return judgeFrame(req, buf, context);
  const expected = announced ?? expectedReplyLength(req);
  return {
    kind: 'error',
    frameLength: buf.length,
    error: new ModbusError(
      'MODBUS_SHORT_FRAME',
      `${context}: reply stopped after ${buf.length} of ${expected} bytes (${hex(buf)})`,
      'response',
    ),
  };
}

function judgeFrame(req: RtuReadRequest, frame: Uint8Array, context: string): ReplyVerdict {
  const frameLength = frame.length;
  if (!crcMatches(frame)) {
    return {
      kind: 'error',
      frameLength,
      error: new ModbusError('MODBUS_CRC_ERROR', `${context}: CRC mismatch in a ${frameLength}-byte reply (check wiring, termination, baud rate)`, 'response'),
    };
  }
  if (frame[0] !== req.unitId) {
    return {
      kind: 'error',
      frameLength,
      error: new ModbusError(
        'MODBUS_WRONG_UNIT',
        `${context}: reply came from unit ${frame[0]} (two devices with one address, or a misconfigured unitId)`,
        'response',
      ),
    };
  }
  const fc = FUNCTION_CODES[req.table];
  if (frame[1] === (fc | 0x80)) return { kind: 'error', frameLength, error: exceptionError(frame[2]!, context) };
  const expected = expectedReplyLength(req);
  if (frame[1] !== fc || frameLength !== expected) {
    return {
      kind: 'error',
      frameLength,
      error: new ModbusError(
        'EBADRESPONSE',
        `${context}: malformed reply (function ${frame[1]}, ${frameLength} bytes; expected function ${fc}, ${expected} bytes)`,
        'response',
      ),
    };
  }
  return { kind: 'data', frameLength, data: decodeData(req, frame) };
}

function decodeData(req: RtuReadRequest, frame: Uint8Array): number[] | boolean[] {
  if (req.table === 'coil' || req.table === 'discrete') {
    const bits: boolean[] = new Array<boolean>(req.count);
    for (let i = 0; i < req.count; i++) bits[i] = ((frame[3 + (i >> 3)]! >> (i & 7)) & 1) === 1;
    return bits;
  }
  const words: number[] = new Array<number>(req.count);
  for (let i = 0; i < req.count; i++) words[i] = (frame[3 + 2 * i]! << 8) | frame[4 + 2 * i]!;
  return words;
}

function hex(buf: Uint8Array): string {
  const shown = Buffer.from(buf.subarray(0, 16)).toString('hex').replace(/(..)(?!$)/g, '$1 ');
  return buf.length > 16 ? `${shown} ...` : shown || 'nothing';
}
