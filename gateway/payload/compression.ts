import zlib from 'node:zlib';

/**
 * Per-batch compression on the wire (docs/payload.md#compression). zstd was chosen by
 * bench/bytes.ts: at the intersection load it made batches as small as brotli and deflate did
 * (within a few %), at less gateway CPU per batch in most measured windows. It needs no marker of
 * its own: a zstd frame starts with the magic bytes 28 b5 2f fd, a JSON batch with `{`, so a
 * consumer tells them apart by the first byte (MQTT 3.1.1 has no content-type property, and a
 * topic suffix would hide the data from subscribers that follow the old docs).
 */
export type Compression = 'none' | 'zstd';

export const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/** Largest batch a consumer inflates: well above any batchMaxBytes, so a hostile frame cannot exhaust memory. */
export const MAX_INFLATED_BATCH_BYTES = 64 * 1024 * 1024;

/** The batch as published. zstd level 3 (the library default): higher levels cost CPU for a few % at this size. */
export function compressBatch(payload: Buffer, compression: Compression): Buffer {
  return compression === 'zstd' ? zlib.zstdCompressSync(payload) : payload;
}

export function isZstd(payload: Buffer): boolean {
  return payload.length >= 4 && payload[0] === 0x28 && payload[1] === 0xb5 && payload[2] === 0x2f && payload[3] === 0xfd;
}

/** A received batch as JSON bytes: inflated when it is a zstd frame, as it is otherwise. Throws on a damaged or oversized frame. */
export function inflateBatch(payload: Buffer): Buffer {
  if (!isZstd(payload)) return payload;
  return zlib.zstdDecompressSync(payload, { maxOutputLength: MAX_INFLATED_BATCH_BYTES });
}
