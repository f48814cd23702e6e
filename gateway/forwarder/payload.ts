import type { ClaimedBatch } from '../outbox/outbox.js';

/** Payload format version; bumped only with a documented, breaking change (docs/payload.md). */
export const PAYLOAD_VERSION = 1;

const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']}');

/**
 * Wrap a claimed batch in the documented envelope. The readings are already JSON bytes in the
 * outbox, so this is one buffer concatenation, not serialisation.
 */
export function batchPayload(gateway: string, outboxId: string, batchId: string, batch: ClaimedBatch, sentAt: number): Buffer {
  const head = Buffer.from(
    `{"v":${PAYLOAD_VERSION},"gateway":${JSON.stringify(gateway)},"outbox":"${outboxId}","batch":"${batchId}",` +
      `"firstSeq":${batch.firstSeq},"lastSeq":${batch.lastSeq},"count":${batch.count},"sentAt":${sentAt},"readings":[`,
  );
  const parts: Buffer[] = [head];
  batch.bodies.forEach((body, i) => {
    if (i > 0) parts.push(COMMA);
    parts.push(body);
  });
  parts.push(CLOSE);
  return Buffer.concat(parts);
}
