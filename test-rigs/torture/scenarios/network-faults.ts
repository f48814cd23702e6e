import type { LogLine } from '../../harness/gateway-process.js';
import type { ScenarioFigures } from '../figures.js';
import { sleep, TortureRig, type Profile } from '../rig.js';

/**
 * The link between gateway and broker fails in the ways real links do, through the fault proxy:
 * connections reset, packets black-holed (a half-open connection: the socket looks fine, nothing
 * arrives), the path stalled (backpressure), connects refused. With `mqtt.keepalive: 2s` the
 * gateway must notice a silent link on its own, reconnect, and lose nothing.
 */
const KEEPALIVE_MS = 2_000;
/**
 * mqtt.js sends PINGREQ after one idle keepalive and gives up when the next keepalive passes
 * without PINGRESP, so detection takes 1–2 keepalives; the rest is margin for a loaded box.
 */
export const DETECT_BOUND_MS = 3 * KEEPALIVE_MS + 4_000;
const LOST = 'broker connection lost; buffering in outbox';

export async function networkFaultsScenario(profile: Profile, rounds: number): Promise<ScenarioFigures> {
  const rig = await TortureRig.start({
    scenario: `network-${profile}`,
    profile,
    devices: 4,
    registersPerDevice: 10,
    pollMs: 25,
    viaProxy: true,
    gateway: { mqtt: { keepalive: '2s', connectTimeout: '3s' } },
  });
  const proxy = rig.proxy!;
  try {
    const gw = await rig.startGatewayReady();
    await rig.progress(500, 'start');
    const detections: number[] = [];
    let interruptions = 0;

    /** ms from `since` until the gateway logs a lost connection (after log index `from`). */
    const detected = async (from: number, since: number, what: string): Promise<number> => {
      const line: LogLine = await gw.waitForLog((l) => l.msg === LOST && gw.logs.indexOf(l) >= from, DETECT_BOUND_MS + 5_000).catch(
        (err: Error) => {
          throw new Error(`${what}: the gateway never noticed the dead link: ${err.message}`);
        },
      );
      return (line.time as number) - since;
    };
    const reconnected = async (from: number, what: string): Promise<void> => {
      await gw.waitForLog((l) => l.msg === 'connected to broker' && gw.logs.indexOf(l) >= from, 30_000).catch((err: Error) => {
        throw new Error(`${what}: no reconnect: ${err.message}`);
      });
      await rig.progress(300, what);
    };

    for (let round = 1; round <= rounds; round++) {
      // Reset: both ends see the RST at once.
      let mark = gw.logs.length;
      proxy.resetAll();
      interruptions++;
      await reconnected(mark, `round ${round} reset`);

      // Black hole: a half-open link only the keepalive can detect.
      for (const mode of ['blackhole', 'stall'] as const) {
        mark = gw.logs.length;
        const t0 = Date.now();
        await proxy.mode(mode);
        const ms = await detected(mark, t0, `round ${round} ${mode}`);
        detections.push(ms);
        if (ms > DETECT_BOUND_MS) throw new Error(`round ${round} ${mode}: noticed after ${ms} ms, bound ${DETECT_BOUND_MS} ms`);
        // Stay broken a little longer: reconnect attempts into the dead path must time out too.
        await sleep(2_000);
        mark = gw.logs.length;
        await proxy.mode('pass');
        interruptions++;
        await reconnected(mark, `round ${round} after ${mode}`);
      }

      // A stall shorter than the keepalive: queued bytes flow on, no reconnect needed.
      await proxy.mode('stall');
      await sleep(KEEPALIVE_MS / 2);
      await proxy.mode('pass');
      interruptions++;
      await rig.progress(300, `round ${round} short stall`);

      // Refused: the broker host is reachable but nothing listens.
      mark = gw.logs.length;
      await proxy.mode('refuse');
      proxy.resetAll();
      await sleep(2_000);
      await proxy.mode('pass');
      interruptions++;
      await reconnected(mark, `round ${round} refuse`);
    }
    return await rig.finish({
      interruptions,
      extra: { rounds, keepaliveMs: KEEPALIVE_MS, detectMaxMs: Math.max(...detections), detectMeanMs: Math.round(detections.reduce((a, b) => a + b, 0) / detections.length) },
    });
  } finally {
    await rig.dispose();
  }
}
