/**
 * Bounds how many probes run at once across every camera in the process, so 50 cameras behind
 * one cabinet gateway never open 200 sockets at once on a Pi.
 *
 * Plain FIFO would let a few hung cameras fill every slot until their timeouts fire and delay
 * all healthy ones. Instead each waiting task belongs to a key (the camera id) and a freed slot
 * goes to the key with the fewest running tasks, oldest first: a hung camera holds at most its
 * fair share while others are waiting.
 */
export class ProbeLimiter {
  #limit: number;
  #running = 0;
  readonly #active = new Map<string, number>();
  readonly #waiting: { key: string; seq: number; start: () => void }[] = [];
  #seq = 0;

  constructor(limit: number) {
    this.#limit = ProbeLimiter.#checkLimit(limit);
  }

  static #checkLimit(limit: number): number {
    if (!Number.isInteger(limit) || limit < 1) {
      throw Object.assign(new Error(`probe concurrency must be a positive integer, got ${limit}`), {
        code: 'ERR_CAMERA_CONCURRENCY',
      });
    }
    return limit;
  }

  get limit(): number {
    return this.#limit;
  }

  get running(): number {
    return this.#running;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  setLimit(limit: number): void {
    this.#limit = ProbeLimiter.#checkLimit(limit);
    this.#drain();
  }

  /** Run `task` once a slot is free; the slot is released however the task ends. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = (): void => {
        this.#running += 1;
        this.#active.set(key, (this.#active.get(key) ?? 0) + 1);
        let p: Promise<T>;
        try {
          p = task();
        } catch (err) {
          p = Promise.reject(err);
        }
        p.then(resolve, reject).finally(() => {
          this.#running -= 1;
          const left = (this.#active.get(key) ?? 1) - 1;
          if (left === 0) this.#active.delete(key);
          else this.#active.set(key, left);
          this.#drain();
        });
      };
      this.#waiting.push({ key, seq: this.#seq++, start });
      this.#drain();
    });
  }

  #drain(): void {
    while (this.#running < this.#limit && this.#waiting.length > 0) {
      let best = 0;
      let bestActive = Infinity;
      for (let i = 0; i < this.#waiting.length; i++) {
        const w = this.#waiting[i]!;
        const active = this.#active.get(w.key) ?? 0;
        // The queue is in arrival order, so the first minimum found is also the oldest.
        if (active < bestActive) {
          best = i;
          bestActive = active;
          if (active === 0) break;
        }
      }
      const [next] = this.#waiting.splice(best, 1);
      next!.start();
    }
  }
}

export const DEFAULT_PROBE_CONCURRENCY = 8;

/** The one limiter shared by every camera driver instance in this process. */
export const cameraProbeLimiter = new ProbeLimiter(DEFAULT_PROBE_CONCURRENCY);
