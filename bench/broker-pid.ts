import { dirname, join } from 'node:path';
import type { BrokerFixture } from '../test-rigs/broker/broker.js';
import { findPid } from './proc-stats.js';

/**
 * The broker fixture does not expose its process; mosquitto is started with a config file in the
 * fixture's own temp dir, so that path finds it. Null for the embedded aedes fallback.
 * Look it up again after a restart: the pid changes.
 */
export function brokerPid(broker: BrokerFixture): number | null {
  if (broker.kind !== 'mosquitto') return null;
  return findPid(join(dirname(broker.logFile), 'mosquitto.conf'));
}
