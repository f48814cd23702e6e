import { Worker } from 'node:worker_threads';
import { parseConfigText, PARSER_WORKER_ROLE, type ParseOutcome } from './parse-yaml.js';

/**
 * Below this size a config file is parsed on the calling thread: yaml takes a few ms for it, and
 * starting a worker costs more than that in memory that stays. A worker thread's start left the
 * daemon ~4-8 MB larger for good after it ended (its malloc arena and the pages it touched;
 * docs/benchmarks.md, "Memory at the intersection"), so a daemon that is reloaded now and then
 * with the usual few-KB files never starts one. Device files are capped at 64 KiB (load.ts).
 */
export const WORKER_MIN_BYTES = 16 * 1024;

/**
 * A worker thread that parses config text for one load, so a running daemon's event loop
 * (devices, group commits, the control socket) is not held while yaml parses megabytes. The thread
 * starts with the first file of at least WORKER_MIN_BYTES; smaller files are parsed here. If the
 * thread cannot start or dies, the text is parsed here instead: the same function, the same
 * result, only without the concurrency.
 */
export class ParserThread {
  private worker: Worker | null = null;
  /** Set once the worker could not start, died or was closed: everything is parsed here from then on. */
  private failed = false;
  private startedWorker = false;
  private nextId = 0;
  private readonly waiting = new Map<number, { text: string; resolve: (o: ParseOutcome) => void }>();

  /** Whether this load started a worker thread (tests). */
  get started(): boolean {
    return this.startedWorker;
  }

  private startWorker(): Worker | null {
    // From dist the worker runs the compiled file; from source (tests) Node strips the types.
    const file = import.meta.url.endsWith('.ts') ? './parse-yaml.ts' : './parse-yaml.js';
    let worker: Worker;
    try {
      worker = new Worker(new URL(file, import.meta.url), { workerData: { role: PARSER_WORKER_ROLE } });
    } catch {
      this.failed = true;
      return null;
    }
    this.startedWorker = true;
    worker.unref();
    worker.on('message', (msg: { id: number; outcome: ParseOutcome }) => {
      const w = this.waiting.get(msg.id);
      this.waiting.delete(msg.id);
      w?.resolve(msg.outcome);
    });
    const fallBack = () => {
      this.worker = null;
      this.failed = true;
      for (const [id, w] of this.waiting) {
        this.waiting.delete(id);
        w.resolve(parseConfigText(w.text));
      }
    };
    worker.on('error', fallBack);
    worker.on('exit', fallBack);
    return worker;
  }

  parse(text: string): Promise<ParseOutcome> {
    if (this.failed || Buffer.byteLength(text) < WORKER_MIN_BYTES) return Promise.resolve(parseConfigText(text));
    const worker = (this.worker ??= this.startWorker());
    if (!worker) return Promise.resolve(parseConfigText(text));
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, { text, resolve });
      worker.postMessage({ id, text });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    this.failed = true;
    if (worker) await worker.terminate();
  }
}
