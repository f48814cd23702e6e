/**
 * What a serial barcode scanner sends: a code, optionally wrapped in a prefix/suffix, optionally
 * led by an AIM symbology identifier, then a terminator. Plus the faults seen in the field.
 */
export interface ScanFrame {
  code: string;
  /** e.g. "]Q1" (QR), "]C1" (GS1-128), "]E0" (EAN-13). */
  aim?: string;
  prefix?: string;
  suffix?: string;
  terminator?: string;
}

export function scanFrame(f: ScanFrame): string {
  return `${f.prefix ?? ''}${f.aim ?? ''}${f.code}${f.suffix ?? ''}${f.terminator ?? '\r\n'}`;
}

/** The same frame `times` times: what a scanner in continuous mode sends while a ticket is held. */
export function heldTicket(f: ScanFrame, times: number): string {
  return scanFrame(f).repeat(times);
}

/** Line noise: bytes a wrong baud rate or a bad cable produce, never containing the terminator. */
export function garbage(length: number, seed = 1): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    let b = (x >>> 0) & 0xff;
    if (b === 0x0a || b === 0x0d || b === 0x09) b = 0x7f;
    out[i] = b;
  }
  return out;
}

/** A run of printable bytes with no terminator at all (a scanner stuck in a loop). */
export function endlessLine(length: number): string {
  return 'X'.repeat(length);
}

/** Valid EAN-13 from 12 digits. */
export function ean13(first12: string): string {
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += Number(first12[i]) * (i % 2 === 0 ? 1 : 3);
  return first12 + String((10 - (sum % 10)) % 10);
}
