import type { IBackOffOptions } from 'exponential-backoff';

/**
 * The one retry schedule every driver uses (reconnect, reopen, a tripped breaker's probe):
 * exponential from `startingDelay` by `timeMultiple` (default 2), capped at `maxDelay`, the same
 * options the forwarder gives exponential-backoff's `backOff()`. Jitter is "equal jitter", uniform
 * in [d/2, d]: a cabinet full of devices that lost the same switch or power feed must not retry
 * in lockstep, yet the delay never collapses to zero the way full jitter can.
 *
 * Only the schedule is computed here, not the loop: `backOff()` sleeps on a timer it cannot
 * cancel, and a driver's stop() must release its socket or port at once instead of after up to
 * `maxDelay`. Drivers sleep on InterruptibleSleep or an AbortSignal instead.
 */
export type RetrySchedule = Pick<IBackOffOptions, 'startingDelay' | 'maxDelay'> & Partial<Pick<IBackOffOptions, 'timeMultiple'>>;

/** Delay before retry `attempt` (0-based). `random` is injectable so tests can pin the jitter. */
export function retryDelayMs(attempt: number, schedule: RetrySchedule, random: () => number = Math.random): number {
  const { startingDelay, maxDelay, timeMultiple = 2 } = schedule;
  const ceiling = Math.min(maxDelay, startingDelay * timeMultiple ** Math.min(attempt, 30));
  return Math.max(1, Math.round(ceiling / 2 + random() * (ceiling / 2)));
}
