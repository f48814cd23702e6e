import type { ClaimedBatch } from '../outbox/outbox.js';

/**
 * Payload format version; bumped only with a documented, breaking change (docs/payload.md).
 * 1 is the default; 2 (poll records) is opt-in and also used for any batch that holds records.
 */
export const PAYLOAD_VERSION = 1;
export type PayloadVersion = 1 | 2;

const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']}');

/**
 * Wrap a claimed batch in the documented envelope. The readings are already JSON bytes in the
 * outbox, so this is one buffer concatenation, not serialisation. A batch holding poll records
 * is v2 whatever was asked for (it was committed as v2), with the layouts its records name.
 */
export function batchPayload(gateway: string, outboxId: string, batchId: string, batch: ClaimedBatch, sentAt: number, version: PayloadVersion = PAYLOAD_VERSION): Buffer {
  const v = batch.layouts.length > 0 ? 2 : version;
  const layouts = batch.layouts.length > 0 ? `"layouts":{${batch.layouts.map((l) => `"${l.id}":${l.json}`).join(',')}},` : '';
  const head = Buffer.from(
    `{"v":${v},"gateway":${JSON.stringify(gateway)},"outbox":"${outboxId}","batch":"${batchId}",` +
      `"firstSeq":${batch.firstSeq},"lastSeq":${batch.lastSeq},"count":${batch.count},"sentAt":${sentAt},${layouts}"readings":[`,
  );
  const parts: Buffer[] = [head];
  batch.bodies.forEach((body, i) => {
    if (i > 0) parts.push(COMMA);
    parts.push(body);
  });
  parts.push(CLOSE);
  return Buffer.concat(parts);
}
