import type { ReadingValue } from '../../gateway/model/reading.js';

/**
 * Turn a node-opcua Variant value into a reading value. Scalars pass through; 64-bit integers
 * (node-opcua gives [high, low] uint32 pairs) become numbers when exact, else decimal strings;
 * dates become epoch ms; anything structured (arrays, LocalizedText, ExtensionObjects) becomes
 * compact JSON so nothing is silently dropped.
 */
export function readingValueFromVariant(value: unknown, dataTypeName: string): ReadingValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'bigint') return bigintValue(value);
  if (value instanceof Date) return value.getTime();
  if ((dataTypeName === 'Int64' || dataTypeName === 'UInt64') && isUint32Pair(value)) {
    const [high, low] = value;
    const unsigned = (BigInt(high) << 32n) | BigInt(low);
    return bigintValue(dataTypeName === 'Int64' ? BigInt.asIntN(64, unsigned) : unsigned);
  }
  if (typeof value === 'object' && 'text' in value && typeof (value as { text: unknown }).text === 'string') {
    return (value as { text: string }).text; // LocalizedText
  }
  if (ArrayBuffer.isView(value)) return JSON.stringify(Array.from(value as unknown as ArrayLike<number>));
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

function bigintValue(v: bigint): number | string {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString();
}

function isUint32Pair(v: unknown): v is [number, number] {
  return Array.isArray(v) && v.length === 2 && v.every((n) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff);
}
