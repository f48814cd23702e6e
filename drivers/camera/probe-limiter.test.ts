import { describe, expect, it } from 'vitest';
import { ProbeLimiter } from './probe-limiter.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('ProbeLimiter', () => {
  it('never runs more than the limit and releases slots on rejection too', async () => {
    const l = new ProbeLimiter(3);
    let max = 0;
    const tasks = Array.from({ length: 20 }, (_, i) =>
      l.run(`k${i % 4}`, async () => {
        max = Math.max(max, l.running);
        await new Promise((r) => setTimeout(r, 2));
        if (i % 5 === 0) throw new Error(`task ${i}`);
        return i;
      }),
    );
    const results = await Promise.allSettled(tasks);
    expect(max).toBe(3);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(4);
    expect(l.running).toBe(0);
    expect(l.waiting).toBe(0);
  });

  it('gives a freed slot to the key with fewest running tasks, so a hung key cannot hog the pool', async () => {
    const l = new ProbeLimiter(2);
    const busy = deferred();
    const hung = deferred();
    const order: string[] = [];
    const done: Promise<unknown>[] = [];
    // Both slots busy; meanwhile a hung camera queues three probes, then a healthy one queues two.
    for (let i = 0; i < 2; i++) done.push(l.run('other', () => busy.promise));
    for (let i = 0; i < 3; i++) done.push(l.run('hung', () => (order.push(`hung${i}`), hung.promise)));
    for (let i = 0; i < 2; i++) done.push(l.run('healthy', async () => void order.push(`healthy${i}`)));
    expect(l.waiting).toBe(5);
    busy.resolve();
    await new Promise((r) => setTimeout(r, 20));
    // FIFO would have run hung0 and hung1 and left the healthy camera waiting on their timeouts.
    expect(order.slice(0, 3)).toEqual(['hung0', 'healthy0', 'healthy1']);
    expect(order).toContain('hung1'); // only once healthy had nothing left to run
    hung.resolve();
    await Promise.all(done);
    expect(order).toHaveLength(5);
  });

  it('rejects a nonsense limit with a coded error', () => {
    expect(() => new ProbeLimiter(0)).toThrow(expect.objectContaining({ code: 'ERR_CAMERA_CONCURRENCY' }));
    expect(() => new ProbeLimiter(1).setLimit(2.5)).toThrow(/positive integer/);
  });
});
