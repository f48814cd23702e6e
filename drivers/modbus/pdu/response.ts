import { exceptionError, ModbusError } from '../errors.js';
import { isBitTable, type ModbusTable } from '../schema.js';
import { describeRequest, functionCodeOf, readDataBytes, type PduRequest } from './request.js';

/**
 * Judging a response PDU against the request it answers, for every framing (MBAP, RTU):
 *   - exception (function code | 0x80, exactly one exception code byte): a ModbusError of kind
 *     `exception` carrying the code;
 *   - a read answer: the right function code, a byte count equal to what the request asked for,
 *     and exactly that many data bytes; resolves to the data bytes (a view, not a copy);
 *   - a write answer: exactly 5 bytes echoing function, address and value (FC 5/6) or address and
 *     quantity (FC 15/16). A device that echoes anything else may have written something other
 *     than what was asked, and the command channel must hear so.
 * Anything else is EBADRESPONSE (kind `response`): only that request fails.
 */

/** PDU bytes a well-formed, non-exception answer has. */
export function expectedResponsePduLength(req: PduRequest): number {
  return req.op === 'read' ? 2 + readDataBytes(req.table, req.count) : 5;
}

/**
 * PDU length the answer announces in its first bytes, or null if it cannot tell yet (RTU has no
 * length field: a reply is complete when it is as long as its own header says).
 */
export function announcedResponsePduLength(req: PduRequest, head: Uint8Array, at = 0): number | null {
  if (head.length - at < 1) return null;
  const fc = functionCodeOf(req);
  if (head[at] === (fc | 0x80)) return 2;
  if (head[at] !== fc) return null;
  if (req.op !== 'read') return 5;
  return head.length - at >= 2 ? 2 + head[at + 1]! : null;
}

/**
 * The data bytes of a read answer (empty for a write), or the error the answer amounts to.
 * Returned rather than thrown: this runs for every answer on the poll path.
 */
export function parseResponsePdu(req: PduRequest, unitId: number, pdu: Buffer): Buffer | ModbusError {
  const fc = functionCodeOf(req);
  const got = pdu[0];
  if (got === (fc | 0x80)) {
    if (pdu.length === 2) return exceptionError(pdu[1]!, describeRequest(req, unitId));
    return malformed(req, unitId, `exception answer of ${pdu.length} bytes, expected 2`);
  }
  if (got !== fc) return malformed(req, unitId, `function ${got ?? 'missing'}, expected ${fc}`);
  if (req.op === 'read') {
    const expected = readDataBytes(req.table, req.count);
    if (pdu.length < 2) return malformed(req, unitId, 'no byte count');
    if (pdu[1] !== expected || pdu.length - 2 !== expected) {
      return malformed(req, unitId, `${pdu[1]} data bytes declared, ${pdu.length - 2} present, ${expected} expected`);
    }
    return pdu.subarray(2);
  }
  if (pdu.length !== 5) return malformed(req, unitId, `write answer of ${pdu.length} bytes, expected 5`);
  const address = pdu.readUInt16BE(1);
  const field = pdu.readUInt16BE(3);
  if (address !== req.address) return malformed(req, unitId, `echoed address ${address}, expected ${req.address}`);
  const expectedField =
    req.op === 'write-coil' ? (req.value ? 0xff00 : 0) : req.op === 'write-register' ? req.value : req.values.length;
  if (field !== expectedField) {
    const what = req.op === 'write-coils' || req.op === 'write-registers' ? 'quantity' : 'value';
    return malformed(req, unitId, `echoed ${what} 0x${field.toString(16).padStart(4, '0')}, expected 0x${expectedField.toString(16).padStart(4, '0')}`);
  }
  return pdu.subarray(5);
}

/** The context is built only on failure: good answers are the poll path's common case. */
function malformed(req: PduRequest, unitId: number, why: string): ModbusError {
  return new ModbusError('EBADRESPONSE', `${describeRequest(req, unitId)}: malformed answer (${why})`, 'response');
}

/** A read answer's data bytes as words (registers) or booleans (bits), for the paths that want arrays. */
export function blockOf(table: ModbusTable, count: number, data: Uint8Array): number[] | boolean[] {
  if (isBitTable(table)) return Array.from({ length: count }, (_, i) => (data[i >> 3]! & (1 << (i & 7))) !== 0);
  return Array.from({ length: count }, (_, i) => (data[2 * i]! << 8) | data[2 * i + 1]!);
}
