import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseBatch } from '../../test-rigs/subscriber/payload.js';
import { compressBatch, inflateBatch, isZstd, MAX_INFLATED_BATCH_BYTES } from './compression.js';

const batch = Buffer.from(
  JSON.stringify({ v: 1, gateway: 'gw', outbox: 'ob1', batch: 'b-1', firstSeq: 1, lastSeq: 2, count: 2, sentAt: 1, readings: [1, 2].map((seq) => ({ seq, device: 'd', point: 'p', value: seq, quality: 'good', ts: 1 })) }),
);

describe('batch compression', () => {
  it('zstd batches start with the zstd magic and read back through the reference parser (subscriber and ingest)', () => {
    const z = compressBatch(batch, 'zstd');
    expect([isZstd(z), z.length < batch.length, isZstd(batch)]).toEqual([true, true, false]);
    const parsed = parseBatch(z, 'gw');
    expect(parsed.ok && parsed.value.readings.map((r) => r.seq)).toEqual([1, 2]);
    expect(compressBatch(batch, 'none')).toBe(batch);
    expect(inflateBatch(batch)).toBe(batch);
  });

  it('refuses a damaged frame and one that inflates past the bound, with a reason', () => {
    const z = compressBatch(batch, 'zstd');
    const damaged = Buffer.concat([z.subarray(0, 4), Buffer.alloc(z.length - 4, 0xff)]);
    expect(parseBatch(damaged, 'gw')).toMatchObject({ ok: false, reason: expect.stringMatching(/zstd frame that does not inflate/) });
    const bomb = zlib.zstdCompressSync(Buffer.alloc(MAX_INFLATED_BATCH_BYTES + 1));
    expect(bomb.length).toBeLessThan(100_000);
    expect(parseBatch(bomb, 'gw')).toMatchObject({ ok: false, reason: expect.stringMatching(/over 67108864 bytes/) });
  });
});
