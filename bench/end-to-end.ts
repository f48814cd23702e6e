import { CpuWindow } from './proc-stats.js';
import { startPipeline, waitUntil, type PipelineSettings } from './pipeline.js';
import { buildChunks, REGISTERS_PER_POLL } from './workload.js';

/**
 * Durable end-to-end throughput: readings/s from `emit` (GroupCommit.addMany) through commit,
 * QoS 1 publish, PUBACK and delete, sustained over a window, with the real modules in this
 * process against the real broker.
 *
 * The generator is closed-loop: it keeps at most `maxBacklog` readings between emitted and
 * acknowledged, so the figure is what the whole path sustains, not how fast the outbox can
 * absorb a burst. It emits pre-built 125-reading arrays (a full Modbus poll), so producing the
 * load costs next to nothing.
 */
export interface EndToEndResult {
  seconds: number;
  /** Readings acknowledged by the broker and deleted from the outbox, per second. */
  readingsPerS: number;
  emittedPerS: number;
  /** Readings still in the outbox when the window closed. */
  backlogAtEnd: number;
  /** Emitted but never acknowledged, after a bounded wait for the tail to drain (must be 0). */
  unacknowledged: number;
  /** Share of wall time the (single) event loop was busy during the window. */
  loopUtilization: number;
  /** This process (generator + gateway path + mqtt client), % of one core. */
  processCpuPercent: number;
  brokerCpuPercent: number | null;
  settings: PipelineSettings;
}

const MAX_BACKLOG = 100_000;
/** Chunks emitted per event-loop turn before yielding to I/O (PUBACKs, timers). */
const CHUNKS_PER_TURN = 16;

export async function measureEndToEnd(opts: {
  brokerUrl: string;
  brokerPid: number | null;
  tmpRoot: string;
  warmupMs: number;
  durationMs: number;
}): Promise<EndToEndResult> {
  const p = startPipeline({ brokerUrl: opts.brokerUrl, tmpRoot: opts.tmpRoot, name: 'e2e' });
  try {
    p.forwarder.start();
    await waitUntil(() => p.forwarder.stats().connected, 10_000, 'the forwarder to connect to the broker');
    const chunks = buildChunks(8);
    let emitted = 0;
    let running = true;
    let turn = 0;
    const acked = (): number => p.forwarder.stats().readingsAcked;
    const generate = (): void => {
      if (!running) return;
      if (emitted - acked() >= MAX_BACKLOG) {
        setTimeout(generate, 1);
        return;
      }
      for (let i = 0; i < CHUNKS_PER_TURN; i++) {
        const chunk = chunks[turn++ % chunks.length]!;
        p.groupCommit.addMany(chunk.device, chunk.readings);
        emitted += REGISTERS_PER_POLL;
      }
      setImmediate(generate);
    };
    generate();

    await sleep(opts.warmupMs);
    const acked0 = acked();
    const emitted0 = emitted;
    const cpu = new CpuWindow(process.pid);
    const brokerCpu = opts.brokerPid === null ? null : new CpuWindow(opts.brokerPid);
    const elu0 = performance.eventLoopUtilization();
    const start = performance.now();
    await sleep(opts.durationMs);
    const seconds = (performance.now() - start) / 1000;
    const result = {
      seconds,
      readingsPerS: (acked() - acked0) / seconds,
      emittedPerS: (emitted - emitted0) / seconds,
      loopUtilization: performance.eventLoopUtilization(elu0).utilization,
      processCpuPercent: cpu.percentOfCore(),
      brokerCpuPercent: brokerCpu?.percentOfCore() ?? null,
      backlogAtEnd: emitted - acked(),
    };
    running = false;
    p.groupCommit.flush();
    await waitUntil(() => acked() >= emitted, 60_000, 'the tail to drain').catch(() => undefined);
    return { ...result, unacknowledged: Math.max(0, emitted - acked()), settings: p.settings };
  } finally {
    await p.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
