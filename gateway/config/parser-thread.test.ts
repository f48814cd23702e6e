import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { deviceFileOf } from '../../bench/config-reload.js';
import { loadConfig, loadConfigAsync } from './load.js';
import { parseConfigText } from './parse-yaml.js';
import { ParserThread, WORKER_MIN_BYTES } from './parser-thread.js';

// Counts the worker threads the loader starts: each one's memory stays with the daemon after it ends.
const started = vi.hoisted(() => ({ workers: 0 }));
vi.mock('node:worker_threads', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:worker_threads')>();
  class CountedWorker extends real.Worker {
    constructor(...args: ConstructorParameters<typeof real.Worker>) {
      super(...args);
      started.workers++;
    }
  }
  return { ...real, Worker: CountedWorker };
});

const EXAMPLE = join(import.meta.dirname, '../../config/examples/intersection');

describe('config parser thread', () => {
  it('parses the usual few-KB files on the calling thread: a reload of the shipped example starts no worker', async () => {
    const before = started.workers;
    const config = await loadConfigAsync(EXAMPLE);
    expect(config.devices.map((d) => d.id)).toEqual(loadConfig(EXAMPLE).devices.map((d) => d.id));
    expect(started.workers - before).toBe(0);
  });

  it('still parses a large file in one worker, with the same result as the calling thread', async () => {
    const before = started.workers;
    const parser = new ParserThread();
    try {
      const small = 'type: modbus-tcp\nhost: 127.0.0.1\n';
      const large = deviceFileOf('registers', 3 * WORKER_MIN_BYTES);
      expect(await parser.parse(small)).toEqual(parseConfigText(small));
      expect(parser.started).toBe(false);
      expect(await parser.parse(large)).toEqual(parseConfigText(large));
      expect(await parser.parse(large)).toEqual(parseConfigText(large));
      expect(parser.started).toBe(true);
      expect(started.workers - before).toBe(1);
    } finally {
      await parser.close();
    }
  });
});
