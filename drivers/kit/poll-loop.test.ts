import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { PollLoop } from './poll-loop.js';

function logSink() {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

describe('PollLoop', () => {
  it('runs the body once, cuts its sleep short on stop, and waits for it to end', async () => {
    const { log } = logSink();
    const loop = new PollLoop(log, 'test poll loop', () => {});
    let runs = 0;
    let polls = 0;
    const body = async () => {
      runs++;
      while (!loop.stopping) {
        polls++;
        await loop.sleep(60_000);
      }
    };
    loop.start(body);
    loop.start(body);
    await new Promise((r) => setImmediate(r));
    // Were the 60 s sleep not cut short, this would outlast the test's timeout.
    await loop.stop();
    expect(runs).toBe(1);
    expect(polls).toBe(1);
    expect(loop.signal.aborted).toBe(true);
    loop.start(body);
    expect(runs).toBe(1);
    await expect(loop.sleep(60_000)).resolves.toBeUndefined();
  });

  it('logs a loop that throws under its name and reports it, without rejecting stop()', async () => {
    const { log, lines } = logSink();
    let crashed = 0;
    const loop = new PollLoop(log, 'test poll loop', () => crashed++);
    loop.start(async () => {
      throw new Error('bug in the body');
    });
    await loop.stop();
    expect(crashed).toBe(1);
    expect(lines.find((l) => l.msg === 'test poll loop ended unexpectedly')).toMatchObject({ level: 50, err: { message: 'bug in the body' } });
  });
});
