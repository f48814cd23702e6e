import { setTimeout as sleep } from 'node:timers/promises';
import { retryDelayMs, type RetrySchedule } from '../kit/backoff.js';

export interface SessionLoopSteps {
  /** Still wanted? False once stop() began. */
  running(): boolean;
  /** Connect, create the session and subscription; throws when the server cannot be reached. */
  connect(): Promise<void>;
  /** Resolves when the session must be dropped and built afresh (stall, closed by the server, stop). */
  untilRebuildNeeded(): Promise<void>;
  /** A connect failed; `failures` counts them since the last success. */
  onFailure(err: unknown, failures: number): void;
  /** Drop the client, whatever state it is in. */
  close(): Promise<void>;
}

/**
 * The driver's outer loop: connect, hold the session until it must be rebuilt, close, wait out
 * the kit's backoff (reset by a successful connect), again — until `signal` aborts, which also
 * cuts the wait short so stop() releases the device at once. Short outages never reach this
 * loop: node-opcua repairs those within the session.
 */
export async function runSessionLoop(steps: SessionLoopSteps, schedule: RetrySchedule, signal: AbortSignal): Promise<void> {
  let failures = 0;
  while (steps.running()) {
    try {
      await steps.connect();
      failures = 0;
      await steps.untilRebuildNeeded();
    } catch (err) {
      if (!steps.running()) break;
      failures += 1;
      steps.onFailure(err, failures);
    }
    await steps.close();
    if (!steps.running()) break;
    try {
      await sleep(retryDelayMs(Math.max(failures, 1) - 1, schedule), undefined, { signal });
    } catch {
      break; // aborted by stop()
    }
  }
}
