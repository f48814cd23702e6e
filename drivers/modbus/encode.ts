import { bytePermutation } from './decode.js';
import { registerWidth, type DecodeOptions } from './schema.js';

/**
 * The inverse of `decode.ts` for register tables: a raw (unscaled) value to the register words a
 * device would hold. Used by the simulator to present typed values and by round-trip tests; the
 * driver itself never writes.
 */
export function encodeRegisters(
  opts: Pick<DecodeOptions, 'type' | 'byteOrder' | 'wordOrder' | 'bit'>,
  raw: number | boolean,
): number[] {
  const width = registerWidth(opts.type);
  if (opts.type === 'bool') return [raw ? 1 : 0];
  if (opts.type === 'bit') return [raw ? 1 << (opts.bit ?? 0) : 0];
  const n = Number(raw);
  const view = new DataView(new ArrayBuffer(8));
  switch (opts.type) {
    case 'int16':
      view.setInt16(0, n);
      break;
    case 'uint16':
      view.setUint16(0, n);
      break;
    case 'int32':
      view.setInt32(0, n);
      break;
    case 'uint32':
      view.setUint32(0, n);
      break;
    case 'float32':
      view.setFloat32(0, n);
      break;
    case 'float64':
      view.setFloat64(0, n);
      break;
  }
  const words = new Array<number>(width).fill(0);
  bytePermutation(width, opts.byteOrder, opts.wordOrder).forEach(([r, b], k) => {
    const byte = view.getUint8(k);
    words[r] = words[r]! | (b === 0 ? byte << 8 : byte);
  });
  return words;
}
