import type { SerialLineSettings } from '../../transport/serial/serial-opener.js';

/**
 * RTU timing from the Modbus over Serial Line spec (v1.02, 2.5.1.1): frames are separated by
 * at least 3.5 character times of silence; above 19200 baud the spec fixes t3.5 at 1.75 ms
 * because the character time becomes too short for UARTs to time reliably.
 */

/** Bits on the wire per character: start bit, data bits, parity bit (if any), stop bits. */
export function bitsPerChar(s: Pick<SerialLineSettings, 'dataBits' | 'parity' | 'stopBits'>): number {
  return 1 + s.dataBits + (s.parity === 'none' ? 0 : 1) + s.stopBits;
}

export function charTimeMs(s: Pick<SerialLineSettings, 'baudRate' | 'dataBits' | 'parity' | 'stopBits'>): number {
  return (bitsPerChar(s) * 1000) / s.baudRate;
}

/** Silence the master keeps between the end of one frame and the start of the next. */
export function interFrameSilenceMs(s: Pick<SerialLineSettings, 'baudRate' | 'dataBits' | 'parity' | 'stopBits'>): number {
  return s.baudRate > 19200 ? 1.75 : 3.5 * charTimeMs(s);
}

/**
 * How long a reply may pause mid-frame before we judge what has arrived as the whole frame.
 * Not t3.5: USB-RS485 adapters hand bytes over in chunks (an FTDI's latency timer defaults to
 * 16 ms), so a healthy reply can pause that long between chunks. A frame that has reached its
 * expected length is judged at once; this gap only decides when a truncated reply is final.
 */
export const FRAME_END_GAP_FLOOR_MS = 40;

export function frameEndGapMs(s: Pick<SerialLineSettings, 'baudRate' | 'dataBits' | 'parity' | 'stopBits'>): number {
  return Math.max(FRAME_END_GAP_FLOOR_MS, Math.ceil(3.5 * charTimeMs(s)));
}

/** Time the bytes of a frame take on the wire, so a response timeout starts when the request has left. */
export function wireTimeMs(bytes: number, s: Pick<SerialLineSettings, 'baudRate' | 'dataBits' | 'parity' | 'stopBits'>): number {
  return bytes * charTimeMs(s);
}
