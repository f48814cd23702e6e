import type { BrokerFixture } from '../test-rigs/broker/broker.js';
import { brokerPid } from './broker-pid.js';
import { CpuWindow } from './proc-stats.js';
import { startPipeline, waitUntil, type PipelineSettings } from './pipeline.js';
import { buildChunks, REGISTERS_PER_POLL } from './workload.js';

/**
 * Backlog drain: readings buffered while the broker is down, then the time to deliver them all
 * once it is back. The gateway path is real (Outbox + GroupCommit + Forwarder, shipped defaults);
 * the outage is real (mosquitto stopped and started on the same port).
 */
export interface DrainResult {
  readings: number;
  /** How fast the outbox absorbed the readings while offline (emit → commit). */
  bufferedPerS: number;
  /** From the broker listening again to the last PUBACK/delete; includes the reconnect backoff. */
  secondsFromBrokerUp: number;
  /** From the forwarder's CONNACK to the last PUBACK/delete. */
  secondsFromConnect: number;
  readingsPerS: number;
  outboxBytes: number;
  loopUtilization: number;
  brokerCpuPercent: number | null;
  /** Readings still pending when the wait gave up (0 on success). */
  leftOver: number;
  settings: PipelineSettings;
}

const CHUNKS_PER_TURN = 64;

export async function measureDrain(opts: { broker: BrokerFixture; tmpRoot: string; readings: number; timeoutMs: number }): Promise<DrainResult> {
  const { broker } = opts;
  await broker.stop();
  // A short backoff ceiling: the figure is about draining, not about how long we wait to retry.
  const p = startPipeline({ brokerUrl: broker.url, tmpRoot: opts.tmpRoot, name: 'drain', reconnect: { minDelay: 50, maxDelay: 250 } });
  try {
    p.forwarder.start();
    const chunks = buildChunks(8);
    const fillStart = performance.now();
    let emitted = 0;
    let turn = 0;
    while (emitted < opts.readings) {
      for (let i = 0; i < CHUNKS_PER_TURN && emitted < opts.readings; i++) {
        const chunk = chunks[turn++ % chunks.length]!;
        const n = Math.min(REGISTERS_PER_POLL, opts.readings - emitted);
        p.groupCommit.addMany(chunk.device, n === REGISTERS_PER_POLL ? chunk.readings : chunk.readings.slice(0, n));
        emitted += n;
      }
      // Let the forwarder's failing reconnects run, as they would in the daemon.
      await new Promise((r) => setImmediate(r));
    }
    p.groupCommit.flush();
    const bufferedPerS = emitted / ((performance.now() - fillStart) / 1000);
    const stats = p.outbox.stats();
    if (stats.pendingReadings !== emitted) {
      throw new Error(`drain benchmark: the outbox holds ${stats.pendingReadings} readings after ${emitted} were emitted offline`);
    }

    await broker.start();
    const up = performance.now();
    const pid = brokerPid(broker);
    const brokerCpu = pid === null ? null : new CpuWindow(pid);
    const elu0 = performance.eventLoopUtilization();
    let connectedAt: number | null = null;
    const acked = (): number => p.forwarder.stats().readingsAcked;
    await waitUntil(
      () => {
        if (connectedAt === null && p.forwarder.stats().connected) connectedAt = performance.now();
        return acked() >= emitted;
      },
      opts.timeoutMs,
      `${emitted} buffered readings to drain`,
      2,
    ).catch(() => undefined);
    const done = performance.now();
    const secondsFromConnect = (done - (connectedAt ?? up)) / 1000;
    return {
      readings: emitted,
      bufferedPerS,
      secondsFromBrokerUp: (done - up) / 1000,
      secondsFromConnect,
      readingsPerS: acked() / secondsFromConnect,
      outboxBytes: stats.pendingBytes,
      loopUtilization: performance.eventLoopUtilization(elu0).utilization,
      brokerCpuPercent: brokerCpu?.percentOfCore() ?? null,
      leftOver: Math.max(0, emitted - acked()),
      settings: p.settings,
    };
  } finally {
    await p.close();
    if (!broker.isRunning) await broker.start();
  }
}
