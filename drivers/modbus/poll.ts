import type { Block } from './decode.js';
import type { BlockReader } from './client.js';
import type { ModbusError } from './errors.js';
import type { ReadPlan, ReadRequest } from './plan.js';

/**
 * Runs one poll of a read plan over any transport. Requests go out one at a time: many devices
 * and TCP/RTU gateways mishandle pipelined requests, and an RTU bus cannot carry them anyway.
 *
 * A Modbus exception fails only its own request; the rest of the plan still runs. A timeout or a
 * connection error means the device (or the link) is gone, so the remaining requests are not sent
 * (each would only wait out its own timeout, stretching the poll) and share that error.
 */

export type RequestResult =
  | { request: ReadRequest; data: Block; error?: undefined; sent: true }
  | { request: ReadRequest; error: ModbusError; data?: undefined; sent: boolean };

export async function readPlan(plan: ReadPlan, reader: BlockReader): Promise<RequestResult[]> {
  const results: RequestResult[] = [];
  let fatal: ModbusError | null = null;
  for (const request of plan.requests) {
    if (fatal) {
      results.push({ request, error: fatal, sent: false });
      continue;
    }
    try {
      const data = await reader.read(request.table, request.address, request.count);
      results.push({ request, data, sent: true });
    } catch (err) {
      const error = err as ModbusError;
      results.push({ request, error, sent: true });
      if (error.kind !== 'exception' && error.kind !== 'response') fatal = error;
    }
  }
  return results;
}
