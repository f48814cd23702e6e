import { Worker } from 'node:worker_threads';
import { parseConfigText, PARSER_WORKER_ROLE, type ParseOutcome } from './parse-yaml.js';

/**
 * A worker thread that parses config text for one load, so a running daemon's event loop
 * (devices, group commits, the control socket) is not held while yaml parses megabytes. If the
 * thread cannot start or dies, the text is parsed here instead: the same function, the same
 * result, only without the concurrency.
 */
export class ParserThread {
  private worker: Worker | null;
  private nextId = 0;
  private readonly waiting = new Map<number, { text: string; resolve: (o: ParseOutcome) => void }>();

  constructor() {
    // From dist the worker runs the compiled file; from source (tests) Node strips the types.
    const file = import.meta.url.endsWith('.ts') ? './parse-yaml.ts' : './parse-yaml.js';
    try {
      this.worker = new Worker(new URL(file, import.meta.url), { workerData: { role: PARSER_WORKER_ROLE } });
    } catch {
      this.worker = null;
      return;
    }
    this.worker.unref();
    this.worker.on('message', (msg: { id: number; outcome: ParseOutcome }) => {
      const w = this.waiting.get(msg.id);
      this.waiting.delete(msg.id);
      w?.resolve(msg.outcome);
    });
    const fallBack = () => {
      this.worker = null;
      for (const [id, w] of this.waiting) {
        this.waiting.delete(id);
        w.resolve(parseConfigText(w.text));
      }
    };
    this.worker.on('error', fallBack);
    this.worker.on('exit', fallBack);
  }

  parse(text: string): Promise<ParseOutcome> {
    const worker = this.worker;
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
    if (worker) await worker.terminate();
  }
}
