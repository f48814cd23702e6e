import type { ClaimedBatch } from '../outbox/outbox.js';

/** Payload format version; bumped only with a documented, breaking change (docs/payload.md). */
export const PAYLOAD_VERSION = 1;

/**
 * Wrap a claimed batch in the documented envelope. The readings are already JSON in the outbox,
 * so this is string assembly, not serialisation.
 */
export function batchPayload(gateway: string, outboxId: string, batchId: string, batch: ClaimedBatch, sentAt: number): string {
  return (
    `{"v":${PAYLOAD_VERSION},"gateway":${JSON.stringify(gateway)},"outbox":"${outboxId}","batch":"${batchId}",` +
    `"firstSeq":${batch.firstSeq},"lastSeq":${batch.lastSeq},"count":${batch.count},"sentAt":${sentAt},` +
    `"readings":[${batch.bodies.join(',')}]}`
  );
}
