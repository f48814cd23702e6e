import type { SharedPart } from '../gateway/model/encoded-row.js';
import type { Committable } from '../gateway/model/packed-run.js';
import type { PayloadVersion } from '../gateway/payload/encode.js';
import { rowEncoder } from '../gateway/payload/encode.js';
import { batchPayload } from '../gateway/payload/envelope.js';
import { parseBatch, type ReadingPayload } from './subscriber/payload.js';

/**
 * What the gateway would publish for a driver's emits, without a daemon: the committables encoded
 * by the payload module as one batch of `version` (seqs from 1), wrapped in the real envelope and
 * read back by the reference subscriber. For driver tests that check their readings' wire form.
 */
export interface PublishedBatch {
  /** The batch as sent (poll records unexpanded). */
  raw: { v: number; readings: Array<Record<string, unknown>>; layouts?: Record<string, { device: string; points: string[]; units?: (string | null)[] }> };
  /** The readings as the reference subscriber expands them. */
  readings: ReadingPayload[];
}

export function publishedBatch(items: readonly Committable[], version: PayloadVersion): PublishedBatch {
  const bodies: Buffer[] = [];
  const layouts: SharedPart[] = [];
  let count = 0;
  rowEncoder(version).encodeRows(items, 1, 1_000_000, false, (row) => {
    bodies.push(Buffer.from(row.body));
    for (const p of row.parts) if (!layouts.some((l) => l.id === p.id)) layouts.push(p);
    count += row.count;
  });
  if (count === 0) throw new Error('publishedBatch: nothing to publish');
  const payload = batchPayload('gw', 'outbox-1', 'b1', { stream: 'telemetry', fromKey: 1, toKey: 1, firstSeq: 1, lastSeq: count, count, bytes: 0, bodies, layouts }, 1, version);
  const parsed = parseBatch(payload, 'gw');
  if (!parsed.ok) throw new Error(`publishedBatch: the reference subscriber refused the batch: ${parsed.reason}`);
  return { raw: JSON.parse(payload.toString('utf8')) as PublishedBatch['raw'], readings: parsed.value.readings as ReadingPayload[] };
}

/** The poll records of a published batch. */
export function pollRecords(batch: PublishedBatch): Array<Record<string, unknown>> {
  return batch.raw.readings.filter((r) => 'layout' in r);
}
