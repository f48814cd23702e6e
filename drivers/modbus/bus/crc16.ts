/**
 * CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF), sent low byte first. Table-driven because
 * it runs over every byte on the bus; the table is built once at load.
 */
const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
    t[n] = c;
  }
  return t;
})();

export function crc16Modbus(bytes: Uint8Array, end = bytes.length): number {
  let crc = 0xffff;
  for (let i = 0; i < end; i++) crc = (crc >>> 8) ^ TABLE[(crc ^ bytes[i]!) & 0xff]!;
  return crc;
}

/** Append the CRC (low byte first) to a unit+PDU buffer. */
export function withCrc(body: Uint8Array): Buffer {
  const out = Buffer.alloc(body.length + 2);
  out.set(body, 0);
  out.writeUInt16LE(crc16Modbus(body), body.length);
  return out;
}

/** True when the last two bytes are the CRC of the rest. */
export function crcMatches(frame: Uint8Array): boolean {
  if (frame.length < 3) return false;
  const got = frame[frame.length - 2]! | (frame[frame.length - 1]! << 8);
  return got === crc16Modbus(frame, frame.length - 2);
}
