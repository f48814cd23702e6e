import { describe, expect, it } from 'vitest';
import { runSessionLoop } from './session-loop.js';

describe('runSessionLoop', () => {
  it('retries failed connects, counts failures since the last success, and holds a session until a rebuild', async () => {
    const abort = new AbortController();
    const events: string[] = [];
    let attempt = 0;
    await runSessionLoop(
      {
        running: () => !abort.signal.aborted,
        connect: async () => {
          attempt++;
          events.push(`connect ${attempt}`);
          if (attempt === 1 || attempt === 2 || attempt === 4) throw new Error(`refused ${attempt}`);
        },
        untilRebuildNeeded: async () => {
          events.push('session');
          if (attempt === 5) abort.abort();
        },
        onFailure: (err, failures) => events.push(`failed ${(err as Error).message} (${failures})`),
        close: async () => {
          events.push('close');
        },
      },
      { startingDelay: 1, maxDelay: 5 },
      abort.signal,
    );
    expect(events).toEqual([
      'connect 1', 'failed refused 1 (1)', 'close',
      'connect 2', 'failed refused 2 (2)', 'close',
      'connect 3', 'session', 'close',
      'connect 4', 'failed refused 4 (1)', 'close',
      'connect 5', 'session', 'close',
    ]);
  });

  it('ends at once when aborted during the backoff wait', async () => {
    const abort = new AbortController();
    let connects = 0;
    const loop = runSessionLoop(
      {
        running: () => !abort.signal.aborted,
        connect: async () => {
          connects++;
          throw new Error('refused');
        },
        untilRebuildNeeded: async () => {},
        onFailure: () => setImmediate(() => abort.abort()),
        close: async () => {},
      },
      // Were the hour-long wait not cut short, this test would time out.
      { startingDelay: 3_600_000, maxDelay: 3_600_000 },
      abort.signal,
    );
    await loop;
    expect(connects).toBe(1);
  });
});
