import pino from 'pino';
import type { ForwarderOptions } from '../../gateway/forwarder/forwarder.js';
import type { BatchSource } from '../../gateway/outbox/store.js';
import { topicsFor } from '../../gateway/forwarder/topics.js';

/** Topics of the forwarder under test: prefix `t`, gateway `gw`. */
export const TEST_TOPICS = topicsFor('t', 'gw');

/** A Forwarder's options for tests against a local broker: short timeouts, quick reconnects, silent log. */
export function testForwarderOptions(outbox: BatchSource, urls: string[], extra: Partial<ForwarderOptions> = {}): ForwarderOptions {
  return {
    outbox,
    gatewayId: 'gw',
    topics: TEST_TOPICS,
    urls,
    clientId: `fwd-${Math.random()}`,
    keepaliveMs: 2000,
    connectTimeoutMs: 2000,
    reconnect: { minDelay: 50, maxDelay: 300 },
    batchMaxReadings: 100,
    batchMaxBytes: 1e6,
    batchMaxWaitMs: 0,
    inflightWindow: 4,
    log: pino({ level: 'silent' }),
    ...extra,
  };
}
