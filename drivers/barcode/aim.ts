/**
 * AIM symbology identifiers (ISO/IEC 15424): scanners configured to send them prefix every code
 * with "]" + a symbology letter + a modifier character, e.g. "]Q1" QR, "]C1" GS1-128, "]E0" EAN-13.
 */
const SYMBOLOGY: Record<string, string> = {
  A: 'code39',
  B: 'telepen',
  C: 'code128',
  D: 'code1',
  E: 'ean-upc',
  F: 'codabar',
  G: 'code93',
  H: 'code11',
  I: 'itf',
  K: 'code16k',
  L: 'pdf417',
  M: 'msi',
  N: 'anker',
  O: 'codablock',
  P: 'plessey',
  Q: 'qr',
  R: 'code2of5-standard',
  S: 'code2of5-matrix',
  X: 'other',
  c: 'channel-code',
  d: 'datamatrix',
  e: 'gs1-databar',
  z: 'aztec',
};

/** Modifiers that change what the symbology means to a parking system. */
const REFINED: Record<string, string> = {
  E0: 'ean13',
  E4: 'ean8',
  C1: 'gs1-128',
  d2: 'gs1-datamatrix',
  Q3: 'gs1-qr',
};

export interface AimSplit {
  /** The code without its identifier. */
  code: string;
  /** "]Q1" style identifier, when the code carried a known one. */
  aimId?: string;
  symbology?: string;
}

const AIM = /^\](?<letter>[A-Za-z])(?<mod>[0-9A-Za-z])/;

export function splitAimId(raw: string): AimSplit {
  const m = AIM.exec(raw);
  const letter = m?.groups?.letter;
  const mod = m?.groups?.mod;
  if (!m || letter === undefined || mod === undefined) return { code: raw };
  const family = SYMBOLOGY[letter];
  // "]" followed by something unknown is data, not an identifier.
  if (family === undefined) return { code: raw };
  return { code: raw.slice(3), aimId: m[0], symbology: REFINED[letter + mod] ?? family };
}
