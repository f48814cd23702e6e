import type { Quality } from '../../gateway/model/reading.js';
import { registerWidth, type DecodeOptions } from './schema.js';

/**
 * Pure decoding of Modbus register/bit blocks into engineering values. Decoders are compiled once
 * per point when the config loads; a poll only indexes into the block it got back.
 *
 * Policy for values a device cannot mean as data: a float that decodes to NaN or ±Infinity (many
 * meters send NaN for "sensor not available"), or a value that scaling pushes past the finite
 * range, becomes `{ value: null, quality: 'bad' }`. JSON cannot carry NaN, and a central system
 * should see "no valid value" rather than a number it might plot. Decoding never throws: a block
 * shorter than expected (a device answering with fewer registers than asked) also yields `bad`.
 */

export interface Decoded {
  value: number | boolean | null;
  quality: Quality;
}

/** A block as a transport returns it: register words (0..65535) or bits. */
export type Block = ArrayLike<number | boolean>;

export type Decoder = (block: Block) => Decoded;

const BAD: Decoded = Object.freeze({ value: null, quality: 'bad' });

function word(block: Block, i: number): number {
  return Number(block[i]) & 0xffff;
}

/**
 * Byte positions, in big-endian value order, of a multi-register value: entry k says which
 * register (relative to the value's first) and which of its bytes (0 = high) lands at byte k.
 */
export function bytePermutation(
  width: number,
  byteOrder: DecodeOptions['byteOrder'],
  wordOrder: DecodeOptions['wordOrder'],
): Array<[register: number, byte: 0 | 1]> {
  const perm: Array<[number, 0 | 1]> = [];
  for (let w = 0; w < width; w++) {
    const register = wordOrder === 'big' ? w : width - 1 - w;
    perm.push([register, byteOrder === 'big' ? 0 : 1], [register, byteOrder === 'big' ? 1 : 0]);
  }
  return perm;
}

/** Compile the decoder for one point whose first register/bit sits at `at` within its block. */
export function compileDecoder(opts: DecodeOptions, at: number): Decoder {
  const width = registerWidth(opts.type);
  const end = at + width;
  const { scale, offset } = opts;
  const scaled = scale === 1 && offset === 0
    ? (raw: number): Decoded => (Number.isFinite(raw) ? { value: raw, quality: 'good' } : BAD)
    : (raw: number): Decoded => {
        const v = raw * scale + offset;
        return Number.isFinite(v) ? { value: v, quality: 'good' } : BAD;
      };

  if (opts.table === 'coil' || opts.table === 'discrete') {
    return (block) => (block.length < end ? BAD : { value: Boolean(block[at]), quality: 'good' });
  }

  switch (opts.type) {
    case 'bool':
      return (block) => (block.length < end ? BAD : { value: word(block, at) !== 0, quality: 'good' });
    case 'bit': {
      const mask = 1 << (opts.bit ?? 0);
      return (block) => (block.length < end ? BAD : { value: (word(block, at) & mask) !== 0, quality: 'good' });
    }
    case 'uint16':
    case 'int16': {
      const signed = opts.type === 'int16';
      const swap = opts.byteOrder === 'little';
      return (block) => {
        if (block.length < end) return BAD;
        let w = word(block, at);
        if (swap) w = ((w & 0xff) << 8) | (w >> 8);
        return scaled(signed && w >= 0x8000 ? w - 0x10000 : w);
      };
    }
    default: {
      const perm = bytePermutation(width, opts.byteOrder, opts.wordOrder);
      // One scratch buffer per decoder: decoders run synchronously, so it is never shared mid-use.
      const view = new DataView(new ArrayBuffer(8));
      const read = readerFor(opts.type, view);
      return (block) => {
        if (block.length < end) return BAD;
        for (let k = 0; k < perm.length; k++) {
          const [r, b] = perm[k]!;
          const w = word(block, at + r);
          view.setUint8(k, b === 0 ? w >> 8 : w & 0xff);
        }
        return scaled(read());
      };
    }
  }
}

function readerFor(type: DecodeOptions['type'], view: DataView): () => number {
  switch (type) {
    case 'int32':
      return () => view.getInt32(0);
    case 'uint32':
      return () => view.getUint32(0);
    case 'float32':
      return () => view.getFloat32(0);
    case 'float64':
      return () => view.getFloat64(0);
    default:
      throw new Error(`no multi-register reader for ${type}`);
  }
}
