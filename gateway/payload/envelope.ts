import type { ClaimedBatch } from '../model/claimed-batch.js';
import { PAYLOAD_VERSION, type PayloadVersion } from './encode.js';
import { layoutEntry } from './layouts.js';

const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']}');
const LAYOUTS_END = Buffer.from('},"readings":[');

/**
 * Wrap a claimed batch in the documented envelope. The readings are already JSON bytes in the
 * outbox, so this is one buffer concatenation, not serialisation. Rows keep the encoding they
 * were committed with, also across a restart that changed `forward.payloadVersion`: a batch
 * holding poll records (it names layouts) can only be v2, whatever `version` says. `replay` marks
 * a batch re-sent on request (gateway/commands/replay.ts).
 */
export function batchPayload(gateway: string, outboxId: string, batchId: string, batch: ClaimedBatch, sentAt: number, version: PayloadVersion = PAYLOAD_VERSION, replay = false): Buffer {
  const hasLayouts = batch.layouts.length > 0;
  const head = Buffer.from(
    `{"v":${hasLayouts ? 2 : version},"gateway":${JSON.stringify(gateway)},"outbox":"${outboxId}","batch":"${batchId}",` +
      `"firstSeq":${batch.firstSeq},"lastSeq":${batch.lastSeq},"count":${batch.count},"sentAt":${sentAt},${replay ? '"replay":true,' : ''}${hasLayouts ? '"layouts":{' : '"readings":['}`,
  );
  const parts: Buffer[] = [head];
  if (hasLayouts) {
    // Each layout's bytes are built once and reused by every batch that carries it.
    batch.layouts.forEach((l, i) => {
      if (i > 0) parts.push(COMMA);
      parts.push(layoutEntry(l));
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
