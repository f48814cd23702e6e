import { readFileSync } from 'node:fs';
import type { BrokerFixture } from '../../broker/broker.js';
import type { ScenarioFigures } from '../figures.js';
import { sleep, TortureRig, type Profile } from '../rig.js';

/**
 * The broker dies under the gateway: SIGKILLed with the gateway's connection open and batches
 * possibly in flight, and restarted (nothing flushed, sockets die), several times, then a long outage while readings pile up in the outbox. The subscriber
 * holds a persistent session, so what the broker accepted reaches it after restarts.
 */
export interface BrokerOutageProfile {
  brokerKills: number;
  outageMs: number;
}

/**
 * mosquitto persists its state only on autosave (every second in the test config). A SIGKILL
 * before the first save after the subscriber subscribed makes it forget that subscription, and
 * whatever the gateway publishes before the subscriber re-subscribes is routed to no one: a
 * broker property, not the gateway's. Waiting for one save before each kill keeps the scenario
 * about the gateway.
 */
async function brokerSaved(broker: BrokerFixture, timeoutMs = 10_000): Promise<void> {
  const saves = (): number => readFileSync(broker.logFile, 'utf8').split('Saving in-memory database').length - 1;
  const before = saves();
  const deadline = Date.now() + timeoutMs;
  while (saves() <= before) {
    if (Date.now() > deadline) throw new Error(`mosquitto did not autosave within ${timeoutMs} ms; log:\n${broker.logTail(20)}`);
    await sleep(100);
  }
}

/** mosquitto's max_inflight_messages in the test config: batches it may redeliver to the subscriber. */
const BROKER_TO_SUBSCRIBER_INFLIGHT = 100;
const INFLIGHT = 4;
const BATCH_MAX = 200;

export async function brokerOutageScenario(profile: Profile, p: BrokerOutageProfile): Promise<ScenarioFigures> {
  const rig = await TortureRig.start({
    scenario: `broker-outage-${profile}`,
    profile,
    devices: 4,
    registersPerDevice: 10,
    pollMs: 25,
    inflightWindow: INFLIGHT,
    batchMaxReadings: BATCH_MAX,
  });
  try {
    const gw = await rig.startGatewayReady();
    await rig.progress(500, 'start');
    for (let k = 0; k < p.brokerKills; k++) {
      await brokerSaved(rig.broker);
      // A QoS 1 PUBACK from mosquitto means "accepted", not "on disk": a SIGKILL loses what it
      // accepted since its last autosave and had not yet delivered. That is the broker's own
      // durability, not the gateway's, so freeze the gateway, let the subscriber take everything
      // the broker holds, then kill the broker under the frozen gateway's open connection.
      process.kill(gw.pid, 'SIGSTOP');
      await rig.subscriberQuiet(700);
      await rig.broker.kill();
      process.kill(gw.pid, 'SIGCONT');
      await sleep(300 + k * 200);
      await rig.broker.start();
      await rig.progress(500, `broker SIGKILL ${k + 1}`);
    }

    // The long outage: everything produced meanwhile waits in the outbox.
    const logsBefore = gw.logs.length;
    await rig.broker.stop();
    await sleep(p.outageMs);
    const committedDuringOutage = rig.sub.tracker.receivedCount;
    await rig.broker.start();
    const reconnect = await gw.waitForLog(
      (l) => l.msg === 'connected to broker' && typeof l.backlog === 'number' && l.backlog > 0 && gw.logs.indexOf(l) >= logsBefore,
      60_000,
    );
    await rig.progress(1000, 'long outage');
    const lostLogs = gw.logs.filter((l) => l.msg === 'broker connection lost; buffering in outbox').length;
    if (lostLogs < p.brokerKills + 1) {
      throw new Error(`expected a 'broker connection lost' log per outage (${p.brokerKills + 1}), saw ${lostLogs}`);
    }
    return await rig.finish({
      interruptions: p.brokerKills + 1,
      duplicatesPerInterruption: (INFLIGHT + BROKER_TO_SUBSCRIBER_INFLIGHT) * BATCH_MAX,
      extra: { brokerKills: p.brokerKills, outageS: p.outageMs / 1000, backlogAtReconnect: reconnect.backlog, receivedBeforeOutageEnd: committedDuringOutage },
    });
  } finally {
    await rig.dispose();
  }
}
