/**
 * Modbus TCP application header (MBAP) framing. TCP is a byte stream: one `data` event may carry
 * half a frame or several frames, so bytes are buffered until a whole frame is present.
 * Layout: transaction id (2) | protocol id (2, always 0) | length (2, unit id + PDU) | unit id (1) | PDU.
 */

export interface MbapFrame {
  transactionId: number;
  unitId: number;
  pdu: Buffer;
}

export const MBAP_HEADER_BYTES = 7;
/** A PDU is at most 253 bytes, so length (unit id + PDU) is 2..254. */
const MAX_LENGTH = 254;

export class MbapFramingError extends Error {
  readonly code = 'MBAP_FRAMING';
}

export class MbapDecoder {
  private pending: Buffer = Buffer.alloc(0);

  /** Feed received bytes; returns every frame now complete. Throws MbapFramingError on garbage. */
  push(chunk: Buffer): MbapFrame[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: MbapFrame[] = [];
    let at = 0;
    while (this.pending.length - at >= 6) {
      const protocol = this.pending.readUInt16BE(at + 2);
      const length = this.pending.readUInt16BE(at + 4);
      if (protocol !== 0 || length < 2 || length > MAX_LENGTH) {
        throw new MbapFramingError(`bad MBAP header at byte ${at}: protocol ${protocol}, length ${length}`);
      }
      if (this.pending.length - at < 6 + length) break;
      frames.push({
        transactionId: this.pending.readUInt16BE(at),
        unitId: this.pending[at + 6]!,
        pdu: this.pending.subarray(at + 7, at + 6 + length),
      });
      at += 6 + length;
    }
    this.pending = at === this.pending.length ? Buffer.alloc(0) : this.pending.subarray(at);
    return frames;
  }
}

export function encodeMbap(transactionId: number, unitId: number, pdu: Buffer): Buffer {
  const out = Buffer.allocUnsafe(MBAP_HEADER_BYTES + pdu.length);
  out.writeUInt16BE(transactionId, 0);
  out.writeUInt16BE(0, 2);
  out.writeUInt16BE(pdu.length + 1, 4);
  out[6] = unitId;
  pdu.copy(out, MBAP_HEADER_BYTES);
  return out;
}
