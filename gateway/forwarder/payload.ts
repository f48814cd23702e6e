import type { ClaimedBatch } from '../outbox/outbox.js';

/**
 * Payload format version; bumped only with a documented, breaking change (docs/payload.md).
 * 1 is the default; 2 (poll records) is opt-in and also used for any batch that holds records.
 */
export const PAYLOAD_VERSION = 1;
export type PayloadVersion = 1 | 2;

const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']}');
const LAYOUTS_END = Buffer.from('},"readings":[');

/**
 * Wrap a claimed batch in the documented envelope. The readings are already JSON bytes in the
 * outbox, so this is one buffer concatenation, not serialisation. A batch holding poll records
 * is v2 whatever was asked for (it was committed as v2), with the layouts its records name.
 */
export function batchPayload(gateway: string, outboxId: string, batchId: string, batch: ClaimedBatch, sentAt: number, version: PayloadVersion = PAYLOAD_VERSION): Buffer {
  const hasLayouts = batch.layouts.length > 0;
  const head = Buffer.from(
    `{"v":${hasLayouts ? 2 : version},"gateway":${JSON.stringify(gateway)},"outbox":"${outboxId}","batch":"${batchId}",` +
      `"firstSeq":${batch.firstSeq},"lastSeq":${batch.lastSeq},"count":${batch.count},"sentAt":${sentAt},${hasLayouts ? '"layouts":{' : '"readings":['}`,
  );
  const parts: Buffer[] = [head];
  if (hasLayouts) {
    // Each layout's bytes are built once and reused by every batch that carries it.
    batch.layouts.forEach((l, i) => {
      if (i > 0) parts.push(COMMA);
      parts.push(l.entry);
    });
    parts.push(LAYOUTS_END);
  }
  batch.bodies.forEach((body, i) => {
    if (i > 0) parts.push(COMMA);
    parts.push(body);
  });
  parts.push(CLOSE);
  return Buffer.concat(parts);
}
