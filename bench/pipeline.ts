import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { Forwarder } from '../gateway/forwarder/forwarder.js';
import { topicsFor } from '../gateway/forwarder/topics.js';
import { GroupCommit } from '../gateway/group-commit.js';
import { Outbox } from '../gateway/outbox/outbox.js';
import { PAYLOAD_VERSION, rowEncoder } from '../gateway/payload/encode.js';
import { shippedDefaults } from './workload.js';

/**
 * The gateway's real data path in this process: Outbox + GroupCommit + Forwarder wired exactly as
 * the daemon wires them (gateway/daemon.ts), with the shipped defaults, minus the drivers.
 */
export interface Pipeline {
  readonly outbox: Outbox;
  readonly groupCommit: GroupCommit;
  readonly forwarder: Forwarder;
  readonly dir: string;
  readonly settings: PipelineSettings;
  close(): Promise<void>;
}

export interface PipelineSettings {
  commitIntervalMs: number;
  commitMaxReadings: number;
  rowMaxReadings: number;
  batchMaxReadings: number;
  batchMaxBytes: number;
  batchMaxWaitMs: number;
  inflightWindow: number;
  durability: 'normal' | 'strict';
}

export function pipelineSettings(brokerUrl: string): PipelineSettings {
  const g = shippedDefaults(brokerUrl);
  return {
    commitIntervalMs: g.outbox.commitInterval,
    commitMaxReadings: g.outbox.commitMaxReadings,
    // As the daemon does: a row never exceeds a batch.
    rowMaxReadings: Math.min(g.outbox.rowMaxReadings, g.forward.batchMaxReadings),
    batchMaxReadings: g.forward.batchMaxReadings,
    batchMaxBytes: g.forward.batchMaxBytes,
    batchMaxWaitMs: g.forward.batchMaxWait,
    inflightWindow: g.forward.inflightWindow,
    durability: g.outbox.durability,
  };
}

export function startPipeline(opts: { brokerUrl: string; tmpRoot: string; name: string; reconnect?: { minDelay: number; maxDelay: number } }): Pipeline {
  const settings = pipelineSettings(opts.brokerUrl);
  const dir = mkdtempSync(join(opts.tmpRoot, `edge-gw-bench-${opts.name}-`));
  // Only problems are worth printing during a benchmark; info lines would cost time themselves.
  const log = pino({ level: 'warn', base: { bench: opts.name } }, pino.destination(2));
  const outbox = new Outbox({
    path: join(dir, 'outbox.db'),
    durability: settings.durability,
    rowMaxReadings: settings.rowMaxReadings,
    encoder: rowEncoder(PAYLOAD_VERSION),
    retention: { maxBytes: 8e9, maxAgeMs: 7 * 86400e3 },
  });
  // Built before the forwarder it wakes, as in the daemon.
  let forwarder: Forwarder | null = null;
  const groupCommit = new GroupCommit({
    outbox,
    intervalMs: settings.commitIntervalMs,
    maxReadings: settings.commitMaxReadings,
    log: log.child({ component: 'group-commit' }),
    onCommit: () => forwarder?.wake(),
  });
  forwarder = new Forwarder({
    outbox,
    gatewayId: 'bench-gw',
    topics: topicsFor('bench', `${opts.name}-${process.pid}`),
    urls: [opts.brokerUrl],
    clientId: `bench-${opts.name}-${process.pid}`,
    keepaliveMs: 15_000,
    connectTimeoutMs: 5_000,
    reconnect: opts.reconnect ?? { minDelay: 100, maxDelay: 1000 },
    batchMaxReadings: settings.batchMaxReadings,
    batchMaxBytes: settings.batchMaxBytes,
    batchMaxWaitMs: settings.batchMaxWaitMs,
    inflightWindow: settings.inflightWindow,
    log: log.child({ component: 'forwarder' }),
  });
  const fwd = forwarder;
  return {
    outbox,
    groupCommit,
    forwarder: fwd,
    dir,
    settings,
    async close() {
      groupCommit.flush();
      await fwd.stop(500);
      outbox.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves when `predicate` holds, polling every `everyMs`; rejects with `what` after `timeoutMs`. */
export async function waitUntil(predicate: () => boolean, timeoutMs: number, what: string, everyMs = 10): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new BenchTimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export class BenchTimeoutError extends Error {
  readonly code = 'BENCH_TIMEOUT';
}
