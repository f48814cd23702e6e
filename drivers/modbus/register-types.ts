/**
 * The vocabulary of a Modbus register map (tables, value types, byte and word orders), apart from
 * the zod schemas that use it, so the read map (schema.ts) and the writable points (writes.ts)
 * share one definition without importing each other.
 */
export const modbusTables = ['holding', 'input', 'coil', 'discrete'] as const;
export type ModbusTable = (typeof modbusTables)[number];

export const modbusValueTypes = [
  'int16',
  'uint16',
  'int32',
  'uint32',
  'float32',
  'float64',
  'bool',
  'bit',
] as const;
export type ModbusValueType = (typeof modbusValueTypes)[number];

export const byteOrders = ['big', 'little'] as const;
export type ByteOrder = (typeof byteOrders)[number];

/** Registers (16-bit words) a value of this type occupies; bit tables hold one bit per address. */
export function registerWidth(type: ModbusValueType): number {
  switch (type) {
    case 'int32':
    case 'uint32':
    case 'float32':
      return 2;
    case 'float64':
      return 4;
    default:
      return 1;
  }
}

export function isBitTable(table: ModbusTable): boolean {
  return table === 'coil' || table === 'discrete';
}

/**
 * Byte/word order by the names device manuals use. Letters are the value's bytes, A the most
 * significant, in the order they arrive (first register's high byte first). For a 64-bit value the
 * same two switches apply to all four registers: ABCD = ABCDEFGH, CDAB = GHEFCDAB (low word first,
 * what manuals call "word swap" or "little-endian word order"), BADC = BADCFEHG, DCBA = HGFEDCBA.
 * For a 16-bit value only the byte order counts: ABCD and CDAB read AB, BADC and DCBA read BA.
 */
export const manualOrders = ['ABCD', 'CDAB', 'BADC', 'DCBA'] as const;
export type ManualOrder = (typeof manualOrders)[number];
export const ORDER_SWITCHES: Record<ManualOrder, { byteOrder: ByteOrder; wordOrder: ByteOrder }> = {
  ABCD: { byteOrder: 'big', wordOrder: 'big' },
  CDAB: { byteOrder: 'big', wordOrder: 'little' },
  BADC: { byteOrder: 'little', wordOrder: 'big' },
  DCBA: { byteOrder: 'little', wordOrder: 'little' },
};

export function manualOrderOf(byteOrder: ByteOrder, wordOrder: ByteOrder): ManualOrder {
  return manualOrders.find((o) => ORDER_SWITCHES[o].byteOrder === byteOrder && ORDER_SWITCHES[o].wordOrder === wordOrder)!;
}

