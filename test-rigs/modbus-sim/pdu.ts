import type { UnitBank } from './bank.js';

/**
 * Modbus PDU handling for the simulator: FC 1, 2, 3, 4 (reads) and 5, 6, 15, 16 (writes).
 * Returns the response PDU; malformed or out-of-range requests get the exception a conforming
 * device sends (1 unknown function, 2 bad address, 3 bad quantity/value).
 */

export function exceptionPdu(functionCode: number, exceptionCode: number): Buffer {
  return Buffer.from([(functionCode | 0x80) & 0xff, exceptionCode]);
}

export function handlePdu(bank: UnitBank, pdu: Buffer): Buffer {
  const fc = pdu[0] ?? 0;
  switch (fc) {
    case 1:
    case 2:
      return readBits(bank, fc, pdu);
    case 3:
    case 4:
      return readRegisters(bank, fc, pdu);
    case 5:
      return writeSingleCoil(bank, pdu);
    case 6:
      return writeSingleRegister(bank, pdu);
    case 15:
      return writeMultipleCoils(bank, pdu);
    case 16:
      return writeMultipleRegisters(bank, pdu);
    default:
      return exceptionPdu(fc, 1);
  }
}

function readBits(bank: UnitBank, fc: number, pdu: Buffer): Buffer {
  if (pdu.length !== 5) return exceptionPdu(fc, 3);
  const address = pdu.readUInt16BE(1);
  const count = pdu.readUInt16BE(3);
  if (count < 1 || count > 2000) return exceptionPdu(fc, 3);
  const table = fc === 1 ? 'coil' : 'discrete';
  if (!bank.exists(table, address, count)) return exceptionPdu(fc, 2);
  const bytes = Math.ceil(count / 8);
  const out = Buffer.alloc(2 + bytes);
  out[0] = fc;
  out[1] = bytes;
  const bits = bank[table];
  for (let i = 0; i < count; i++) {
    if (bits[address + i]) out[2 + (i >> 3)]! |= 1 << (i & 7);
  }
  return out;
}

function readRegisters(bank: UnitBank, fc: number, pdu: Buffer): Buffer {
  if (pdu.length !== 5) return exceptionPdu(fc, 3);
  const address = pdu.readUInt16BE(1);
  const count = pdu.readUInt16BE(3);
  if (count < 1 || count > 125) return exceptionPdu(fc, 3);
  const table = fc === 3 ? 'holding' : 'input';
  if (!bank.exists(table, address, count)) return exceptionPdu(fc, 2);
  const out = Buffer.allocUnsafe(2 + count * 2);
  out[0] = fc;
  out[1] = count * 2;
  const regs = bank[table];
  for (let i = 0; i < count; i++) out.writeUInt16BE(regs[address + i]!, 2 + i * 2);
  return out;
}

function writeSingleCoil(bank: UnitBank, pdu: Buffer): Buffer {
  if (pdu.length !== 5) return exceptionPdu(5, 3);
  const address = pdu.readUInt16BE(1);
  const value = pdu.readUInt16BE(3);
  if (value !== 0xff00 && value !== 0x0000) return exceptionPdu(5, 3);
  if (!bank.exists('coil', address, 1)) return exceptionPdu(5, 2);
  bank.coil[address] = value === 0xff00 ? 1 : 0;
  return Buffer.from(pdu);
}

function writeSingleRegister(bank: UnitBank, pdu: Buffer): Buffer {
  if (pdu.length !== 5) return exceptionPdu(6, 3);
  const address = pdu.readUInt16BE(1);
  if (!bank.exists('holding', address, 1)) return exceptionPdu(6, 2);
  bank.holding[address] = pdu.readUInt16BE(3);
  bank.afterHoldingWrite(address, 1);
  return Buffer.from(pdu);
}

function writeMultipleCoils(bank: UnitBank, pdu: Buffer): Buffer {
  if (pdu.length < 6) return exceptionPdu(15, 3);
  const address = pdu.readUInt16BE(1);
  const count = pdu.readUInt16BE(3);
  const bytes = pdu[5]!;
  if (count < 1 || count > 1968 || bytes !== Math.ceil(count / 8) || pdu.length !== 6 + bytes) return exceptionPdu(15, 3);
  if (!bank.exists('coil', address, count)) return exceptionPdu(15, 2);
  for (let i = 0; i < count; i++) bank.coil[address + i] = (pdu[6 + (i >> 3)]! >> (i & 7)) & 1;
  return pdu.subarray(0, 5);
}

function writeMultipleRegisters(bank: UnitBank, pdu: Buffer): Buffer {
  if (pdu.length < 6) return exceptionPdu(16, 3);
  const address = pdu.readUInt16BE(1);
  const count = pdu.readUInt16BE(3);
  const bytes = pdu[5]!;
  if (count < 1 || count > 123 || bytes !== count * 2 || pdu.length !== 6 + bytes) return exceptionPdu(16, 3);
  if (!bank.exists('holding', address, count)) return exceptionPdu(16, 2);
  for (let i = 0; i < count; i++) bank.holding[address + i] = pdu.readUInt16BE(6 + i * 2);
  bank.afterHoldingWrite(address, count);
  return pdu.subarray(0, 5);
}
