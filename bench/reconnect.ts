import { rmSync } from 'node:fs';
import { request } from '../gateway/control/client.js';
import { RECONNECT_MAX_DELAY_MS } from '../gateway/config/gateway-schema.js';
import type { HealthReport } from '../gateway/health.js';
import { startBroker } from '../test-rigs/broker/broker.js';
import { writeConfigDir } from '../test-rigs/harness/config-dir.js';
import { GatewayProcess } from '../test-rigs/harness/gateway-process.js';
import { percentile } from './percentile.js';

/**
 * How long a returning broker waits to be used (issue #21 finding 8): the real daemon at the
 * shipped reconnect, keepalive and connect-timeout defaults, against its own mosquitto, which is
 * stopped for outages spread evenly over `minOutageS`..`maxOutageS` (in an interleaved order, so
 * the backoff is seen from every point of its schedule). For each: the time from mosquitto
 * listening again to the daemon's status saying connected, polled every 20 ms (so up to ~20 ms
 * high). Judged at the p99 against 5 s.
 */
export const RECONNECT_LIMIT_S = 5;

export interface ReconnectResult {
  maxDelayMs: number;
  outages: { outageS: number; reconnectS: number }[];
  p50S: number;
  p99S: number;
  maxS: number;
  limitS: number;
}

/** Outage lengths from min to max, evenly spaced, taken in an interleaved order. */
export function outageSchedule(count: number, minS: number, maxS: number): number[] {
  const even = Array.from({ length: count }, (_, i) => (count === 1 ? minS : minS + ((maxS - minS) * i) / (count - 1)));
  const order: number[] = [];
  for (let lo = 0, hi = count - 1; lo <= hi; lo++, hi--) {
    order.push(even[lo]!);
    if (hi !== lo) order.push(even[hi]!);
  }
  return order.map((s) => Math.round(s * 10) / 10);
}

export async function measureReconnect(opts: { outages: number; minOutageS: number; maxOutageS: number; progress?: (msg: string) => void }): Promise<ReconnectResult> {
  const broker = await startBroker();
  // The shipped defaults: no reconnect, keepalive or connectTimeout in gateway.yaml.
  const config = writeConfigDir({ brokerUrls: [broker.url], gateway: { mqtt: { reconnect: undefined, keepalive: undefined, connectTimeout: undefined } } });
  const socket = `${config.dir}/control.sock`;
  const gw = GatewayProcess.start(config.dir);
  const connected = async () => (await request<HealthReport>(socket, { cmd: 'status' }, 5000)).broker.connected;
  const waitFor = async (want: boolean, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while ((await connected()) !== want) {
      if (Date.now() > deadline) throw new Error(`the daemon's broker link did not become ${want ? 'connected' : 'disconnected'} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const outages: ReconnectResult['outages'] = [];
  try {
    await gw.ready();
    await waitFor(true, 15_000);
    for (const outageS of outageSchedule(opts.outages, opts.minOutageS, opts.maxOutageS)) {
      await broker.stop();
      await waitFor(false, 30_000);
      await new Promise((r) => setTimeout(r, outageS * 1000));
      await broker.start();
      const back = performance.now();
      await waitFor(true, 120_000);
      const reconnectS = (performance.now() - back) / 1000;
      outages.push({ outageS, reconnectS });
      opts.progress?.(`outage ${outages.length}/${opts.outages}: ${outageS} s, reconnected ${reconnectS.toFixed(2)} s after the broker was back`);
    }
  } finally {
    await gw.stop();
    await broker.dispose();
    rmSync(config.dir, { recursive: true, force: true });
  }
  const delays = outages.map((o) => o.reconnectS);
  return { maxDelayMs: RECONNECT_MAX_DELAY_MS, outages, p50S: percentile(delays, 50), p99S: percentile(delays, 99), maxS: Math.max(...delays), limitS: RECONNECT_LIMIT_S };
}
