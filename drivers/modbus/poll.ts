import type { DeviceState } from '../driver.js';
import type { ModbusError } from './errors.js';
import type { ReadPlan, ReadRequest } from './plan.js';

/**
 * One poll of a read plan over any transport (TCP or RTU), and what it amounted to: the one home
 * of the read policy both Modbus drivers follow.
 *
 * Requests go out one at a time unless `lanes` > 1 (`maxOutstandingRequests`, for TCP devices
 * that serve several transactions at once): many devices and TCP/RTU gateways mishandle
 * pipelined requests, and an RTU bus cannot carry them anyway.
 *
 * A Modbus exception or a malformed answer fails only its own request; the rest of the plan still
 * runs. A timeout or a connection error means the device (or the link) is gone, so the remaining
 * requests are not sent (each would only wait out its own timeout, stretching the poll) and share
 * that error.
 */

export type RequestResult =
  /** `data`: the answer's data bytes (registers big-endian, bits packed LSB first). */
  | { request: ReadRequest; data: Buffer; error?: undefined; sent: true }
  | { request: ReadRequest; error: ModbusError; data?: undefined; sent: boolean };

/** Sends one request, resolving with its answer's data bytes or rejecting with a ModbusError. */
export type ReadBlock = (request: ReadRequest) => Promise<Buffer>;

/** True for an error after which the rest of a poll is not sent. */
export function endsPoll(error: ModbusError): boolean {
  return error.kind !== 'exception' && error.kind !== 'response';
}

/** Results in the plan's order. */
export async function readPlan(plan: ReadPlan, read: ReadBlock, lanes = 1): Promise<RequestResult[]> {
  const requests = plan.requests;
  const results = new Array<RequestResult>(requests.length);
  let fatal: ModbusError | null = null;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < requests.length) {
      const i = next++;
      const request = requests[i]!;
      if (fatal) {
        results[i] = { request, error: fatal, sent: false };
        continue;
      }
      try {
        results[i] = { request, data: await read(request), sent: true };
      } catch (err) {
        const error = err as ModbusError;
        results[i] = { request, error, sent: true };
        if (endsPoll(error)) fatal ??= error;
      }
    }
  };
  const n = Math.min(lanes, requests.length);
  if (n <= 1) await worker();
  else await Promise.all(Array.from({ length: n }, worker));
  return results;
}

/** What a poll amounted to, for counters and state. */
export interface PollTally {
  /** Requests that went on the wire. */
  sent: number;
  /** Requests that answered with data. */
  good: number;
  /** The first error of the poll, sent or not: what status shows. */
  firstError: ModbusError | null;
  /** The errors of requests that were sent, one per request, for the per-kind counters. */
  sentErrors: ModbusError[];
  /** A timeout or connection error: the link is suspect. */
  lost: ModbusError | null;
  /** ok: everything answered; degraded: some did; down: none did. */
  state: Extract<DeviceState, 'ok' | 'degraded' | 'down'>;
}

export function tallyPoll(results: readonly RequestResult[]): PollTally {
  const t: PollTally = { sent: 0, good: 0, firstError: null, sentErrors: [], lost: null, state: 'ok' };
  for (const r of results) {
    if (r.sent) t.sent++;
    if (r.error === undefined) {
      t.good++;
      continue;
    }
    t.firstError ??= r.error;
    if (!r.sent) continue;
    t.sentErrors.push(r.error);
    if (r.error.kind === 'timeout' || r.error.kind === 'connection') t.lost = r.error;
  }
  t.state = t.good === results.length ? 'ok' : t.good > 0 ? 'degraded' : 'down';
  return t;
}
