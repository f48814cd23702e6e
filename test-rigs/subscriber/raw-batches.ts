import mqtt from 'mqtt';
import { anyBatchPayloadSchema, checkBatchInvariants } from '../../gateway/forwarder/payload-schema.js';
import { inflateBatch } from '../../gateway/payload/compression.js';

/** A batch as published (after inflating a zstd frame), for tests that look at the wire form itself. */
export interface RawBatch {
  v: number;
  firstSeq: number;
  lastSeq: number;
  readings: Array<Record<string, unknown>>;
  layouts?: Record<string, { device: string; points: string[]; units?: Array<string | null> }>;
}

/**
 * Every batch published on `topic`, as it went over the wire (zstd frames inflated as
 * docs/payload.md says), each checked against the contract (schema + invariants): what fails
 * lands in `problems` instead of throwing inside mqtt.js's callback.
 */
export async function collectRawBatches(url: string, topic: string): Promise<{ batches: RawBatch[]; problems: string[]; stop: () => Promise<void> }> {
  const batches: RawBatch[] = [];
  const problems: string[] = [];
  const client = await mqtt.connectAsync(url, { clientId: `raw-${process.pid}-${Math.random().toString(36).slice(2)}`, clean: true, reconnectPeriod: 0 });
  await client.subscribeAsync(topic, { qos: 1 });
  client.on('message', (_t, payload) => {
    let json: unknown;
    try {
      json = JSON.parse(inflateBatch(payload).toString('utf8'));
    } catch (err) {
      problems.push(`not a batch: ${(err as Error).message}`);
      return;
    }
    const parsed = anyBatchPayloadSchema.safeParse(json);
    if (!parsed.success) problems.push(parsed.error.message.slice(0, 300));
    else problems.push(...checkBatchInvariants(parsed.data));
    batches.push(json as RawBatch);
  });
  return { batches, problems, stop: async () => void (await client.endAsync(true)) };
}
