import { rmSync } from 'node:fs';
import type { BrokerFixture } from '../broker/broker.js';
import { startSubscriber, type Subscriber } from '../subscriber/subscriber.js';
import type { ConfigDir } from './config-dir.js';
import { GatewayProcess } from './gateway-process.js';

/**
 * The end-to-end shape every driver's e2e test shares: a reference subscriber on the broker, the
 * real daemon on the given config directory, ready; `stop()` undoes all of it, config included.
 */
export interface GatewayUnderTest {
  sub: Subscriber;
  gw: GatewayProcess;
  stop(): Promise<void>;
}

export async function startGatewayUnderTest(broker: BrokerFixture, config: ConfigDir, clientId: string): Promise<GatewayUnderTest> {
  const sub = await startSubscriber({
    url: broker.url,
    prefix: config.topicPrefix,
    gatewayId: config.gatewayId,
    clientId,
    clean: true,
    keepReadings: true,
  });
  const gw = GatewayProcess.start(config.dir);
  const stop = async () => {
    await gw.stop();
    await sub.stop();
    rmSync(config.dir, { recursive: true, force: true });
  };
  try {
    await gw.ready();
  } catch (err) {
    await stop();
    throw err;
  }
  return { sub, gw, stop };
}
