import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DAEMON_NODE_FLAGS } from '../gateway/node-flags.js';
import { memory } from './proc-stats.js';

/**
 * The memory floor of issue #25: what node itself costs, with the daemon's node flags and the
 * libraries the daemon loads, loaded and idle (bench/idle-floor-process.ts). The intersection
 * section prints the daemon's RSS next to the floor measured in the same run, so the difference
 * is the daemon's own memory and not this machine's node build or the libraries' size.
 *   node dist/bench/idle-floor.js [--seconds N]   # the floor alone
 */
export interface IdleFloor {
  /** VmRSS, the largest of the samples after settling. */
  rssBytes: number;
  /** Private memory (RssAnon) and file-backed pages (RssFile, mostly the node binary) of that sample. */
  rssAnonBytes: number;
  rssFileBytes: number;
  samples: number;
}

export class IdleFloorError extends Error {
  readonly code = 'BENCH_IDLE_FLOOR_FAILED';
}

const HERE = dirname(fileURLToPath(import.meta.url));

/**
 * Starts the idle child, lets it settle `settleMs` after it is ready (start-up garbage collected,
 * lazily compiled code done), then samples it once a second for `sampleMs`.
 */
export async function measureIdleFloor(opts: { nodeArgs?: string[]; settleMs?: number; sampleMs?: number } = {}): Promise<IdleFloor> {
  const child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, ...(opts.nodeArgs ?? []), join(HERE, 'idle-floor-process.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', () => resolve());
      child.once('exit', (code) => reject(new IdleFloorError(`the idle-floor process exited (${code}) before it was ready`)));
      child.once('error', (err) => reject(new IdleFloorError(`the idle-floor process did not start: ${err.message}`, { cause: err })));
    });
    await sleep(opts.settleMs ?? 5000);
    let best = memory(child.pid!);
    let samples = 1;
    const until = performance.now() + (opts.sampleMs ?? 5000);
    while (performance.now() < until) {
      await sleep(1000);
      const m = memory(child.pid!);
      samples++;
      if (m.rssBytes > best.rssBytes) best = m;
    }
    return { rssBytes: best.rssBytes, rssAnonBytes: best.anonBytes, rssFileBytes: best.fileBytes, samples };
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await once(child, 'exit').catch(() => undefined);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--seconds');
  const sampleMs = i > 0 ? Number(process.argv[i + 1]) * 1000 : 5000;
  const f = await measureIdleFloor({ sampleMs });
  const mb = (b: number) => `${(b / 1048576).toFixed(1)} MB`;
  process.stdout.write(`idle floor (node ${process.version}, ${DAEMON_NODE_FLAGS.join(' ')}): VmRSS ${mb(f.rssBytes)} (RssAnon ${mb(f.rssAnonBytes)} + RssFile ${mb(f.rssFileBytes)}), max of ${f.samples} samples\n`);
}
