import { ModbusError } from '../errors.js';
import { describeRequest, requestPduLength, writeRequestPdu, type PduRequest } from '../pdu/request.js';
import { announcedResponsePduLength, expectedResponsePduLength, parseResponsePdu } from '../pdu/response.js';
import { crcMatches, withCrc } from './crc16.js';

/**
 * RTU framing (unit id + PDU + CRC) around the shared PDU codec (../pdu/), written here rather
 * than taken from modbus-serial's RTU client because that client cannot tell the faults of a bus
 * apart: its buffered port scans for a frame that starts with the expected unit id and is exactly
 * as long as expected, so a reply from the wrong unit or a truncated reply is never delivered and
 * ends as a plain timeout, indistinguishable from a dead unit (modbus-serial ports/rtubufferedport.js).
 * A technician needs "unit 7 answers with CRC errors" (wiring, termination, baud) apart from
 * "unit 7 is silent" (power, address) apart from "unit 9 answers for unit 7" (duplicate address).
 *
 * RTU has no length field: a reply is judged as soon as it is as long as its own header says
 * (the codec's announced PDU length + unit + CRC); a reply that stops short is judged when the
 * bus has gone quiet. What the PDU means (data, exception, write echo) is the codec's call.
 */

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

/** One transaction on the bus: which unit, and what is asked of it. */
export interface RtuRequest {
  unitId: number;
  pdu: PduRequest;
}

/** The request frame: unit, PDU, CRC. Throws EBADREQUEST for a request outside the spec's limits. */
export function encodeRtuRequest(req: RtuRequest): Buffer {
  const body = Buffer.alloc(1 + requestPduLength(req.pdu));
  body[0] = req.unitId;
  writeRequestPdu(req.pdu, req.unitId, body, 1);
  return withCrc(body);
}

/** Length of a well-formed reply: unit, PDU, CRC. */
export function expectedReplyLength(req: RtuRequest): number {
  return 3 + expectedResponsePduLength(req.pdu);
}

export type ReplyVerdict =
  | { kind: 'incomplete' }
  /** The read's data bytes (empty for a write), a view into the received bytes. */
  | { kind: 'data'; data: Buffer; frameLength: number }
  | { kind: 'error'; error: ModbusError; frameLength: number };

/** The frame length a reply announces in its header, or null if it cannot tell yet. */
function announcedLength(req: RtuRequest, buf: Uint8Array): number | null {
  const pdu = announcedResponsePduLength(req.pdu, buf, 1);
  return pdu === null ? null : 3 + pdu;
}

/**
 * Judge the bytes received so far for `req`. With `final` false the reply may still grow;
 * with `final` true (the bus went quiet or the timeout passed) what is here is all there is.
 * An empty final buffer is not judged here: silence is the caller's timeout.
 */
export function judgeReply(req: RtuRequest, buf: Buffer, final: boolean): ReplyVerdict {
  const announced = announcedLength(req, buf);
  if (announced !== null && buf.length >= announced) return judgeFrame(req, buf.subarray(0, announced));
  if (!final) return { kind: 'incomplete' };
  // A complete frame of some other shape (another unit's reply to something else) still carries
  // a valid CRC; anything else that stopped early is a truncated frame.
  if (buf.length >= 4 && crcMatches(buf)) return judgeFrame(req, buf);
  const expected = announced ?? expectedReplyLength(req);
  return {
    kind: 'error',
    frameLength: buf.length,
    error: new ModbusError(
      'MODBUS_SHORT_FRAME',
      `${describeRequest(req.pdu, req.unitId)}: reply stopped after ${buf.length} of ${expected} bytes (${hex(buf)})`,
      'response',
    ),
  };
}

function judgeFrame(req: RtuRequest, frame: Buffer): ReplyVerdict {
  const frameLength = frame.length;
  const context = () => describeRequest(req.pdu, req.unitId);
  if (!crcMatches(frame)) {
    return {
      kind: 'error',
      frameLength,
      error: new ModbusError('MODBUS_CRC_ERROR', `${context()}: CRC mismatch in a ${frameLength}-byte reply (check wiring, termination, baud rate)`, 'response'),
    };
  }
  if (frame[0] !== req.unitId) {
    return {
      kind: 'error',
      frameLength,
      error: new ModbusError(
        'MODBUS_WRONG_UNIT',
        `${context()}: reply came from unit ${frame[0]} (two devices with one address, or a misconfigured unitId)`,
        'response',
      ),
    };
  }
  const result = parseResponsePdu(req.pdu, req.unitId, frame.subarray(1, frameLength - 2));
  return result instanceof ModbusError ? { kind: 'error', frameLength, error: result } : { kind: 'data', frameLength, data: result };
}

function hex(buf: Uint8Array): string {
  const shown = Buffer.from(buf.subarray(0, 16)).toString('hex').replace(/(..)(?!$)/g, '$1 ');
  return buf.length > 16 ? `${shown} ...` : shown || 'nothing';
}
