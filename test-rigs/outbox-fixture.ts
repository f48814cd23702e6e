import { join } from 'node:path';
import { Outbox, type OutboxOptions } from '../gateway/outbox/outbox.js';
import { rowEncoder } from '../gateway/payload/encode.js';

/** A v1 outbox in `dir` with generous bounds, for tests that change only what they look at. */
export function openTestOutbox(dir: string, extra: Partial<OutboxOptions> = {}): Outbox {
  return new Outbox({
    path: join(dir, 'outbox.db'),
    durability: 'normal',
    rowMaxReadings: 100,
    encoder: rowEncoder(1),
    retention: { maxBytes: 1e9, maxAgeMs: 86400e3 },
    ...extra,
  });
}
