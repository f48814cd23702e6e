import { describe, expect, it } from 'vitest';
import { ModbusError } from './errors.js';
import type { ReadPlan, ReadRequest } from './plan.js';
import { readPlan, tallyPoll } from './poll.js';

/** The read policy both Modbus drivers follow, and what a poll amounts to, over a scripted transport. */

const plan = (n: number): ReadPlan => ({
  pointNames: [],
  requests: Array.from({ length: n }, (_, i) => ({ table: 'holding' as const, address: i * 10, count: 1, points: [] })),
});
const exception = new ModbusError('MODBUS_EXCEPTION_2', 'no such register', 'exception', 2);
const timeout = new ModbusError('ETIMEDOUT', 'silent', 'timeout');

/** Answers by address: an error to throw, or data; records what was sent and how many were in flight. */
function scripted(outcomes: Record<number, ModbusError>) {
  const sent: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const read = async (r: ReadRequest): Promise<Buffer> => {
    sent.push(r.address);
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    await new Promise((resolve) => setTimeout(resolve, 5));
    inFlight--;
    const e = outcomes[r.address];
    if (e) throw e;
    return Buffer.from([0, r.address]);
  };
  return { read, sent, maxInFlight: () => maxInFlight };
}

describe('readPlan', () => {
  it('an exception fails only its request; the rest still go out', async () => {
    const t = scripted({ 10: exception });
    const results = await readPlan(plan(3), t.read);
    expect(t.sent).toEqual([0, 10, 20]);
    expect(results.map((r) => r.error?.code ?? [...r.data!])).toEqual([[0, 0], 'MODBUS_EXCEPTION_2', [0, 20]]);
  });

  it('after a timeout the rest are not sent and share its error', async () => {
    const t = scripted({ 10: timeout });
    const results = await readPlan(plan(4), t.read);
    expect(t.sent).toEqual([0, 10]);
    expect(results.map((r) => [r.sent, r.error?.code ?? 'data'])).toEqual([
      [true, 'data'],
      [true, 'ETIMEDOUT'],
      [false, 'ETIMEDOUT'],
      [false, 'ETIMEDOUT'],
    ]);
  });

  it('runs at most `lanes` requests at once and keeps results in plan order', async () => {
    const t = scripted({});
    const results = await readPlan(plan(7), t.read, 3);
    expect(t.maxInFlight()).toBe(3);
    expect(results.map((r) => r.request.address)).toEqual([0, 10, 20, 30, 40, 50, 60]);
    const one = scripted({});
    await readPlan(plan(4), one.read);
    expect(one.maxInFlight()).toBe(1);
  });
});

describe('tallyPoll', () => {
  it('counts what was sent, what answered, the first error, and whether the link is suspect', async () => {
    const ok = tallyPoll(await readPlan(plan(2), scripted({}).read));
    expect(ok).toMatchObject({ sent: 2, good: 2, firstError: null, sentErrors: [], lost: null, state: 'ok' });

    const some = tallyPoll(await readPlan(plan(3), scripted({ 10: exception }).read));
    expect(some).toMatchObject({ sent: 3, good: 2, firstError: exception, sentErrors: [exception], lost: null, state: 'degraded' });

    // The unsent requests share the timeout but count neither as sent nor as errors of their own.
    const gone = tallyPoll(await readPlan(plan(3), scripted({ 0: timeout }).read));
    expect(gone).toMatchObject({ sent: 1, good: 0, firstError: timeout, sentErrors: [timeout], lost: timeout, state: 'down' });
  });
});
