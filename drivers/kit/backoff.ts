import type { IBackOffOptions } from 'exponential-backoff';

/**
 * The one retry schedule every driver uses (reconnect, reopen, a tripped breaker's probe):
 * exponential from `startingDelay` by `timeMultiple` (default 2), capped at `maxDelay`, the same
 * options the forwarder gives exponential-backoff's `backOff()`. Jitter is +-20 % (never above
 * `maxDelay`): a cabinet full of devices that lost the same switch or power feed must not retry
 * in lockstep, yet the delay stays near the schedule instead of collapsing towards zero the way
 * full jitter can (a serial adapter reopened too soon after an unplug only fails again).
 *
 * Only the schedule is computed here, not the loop: `backOff()` sleeps on a timer it cannot
 * cancel, and a driver's stop() must release its socket or port at once instead of after up to
 * `maxDelay`. Drivers sleep on InterruptibleSleep or an AbortSignal instead.
 */
export type RetrySchedule = Pick<IBackOffOptions, 'startingDelay' | 'maxDelay'> & Partial<Pick<IBackOffOptions, 'timeMultiple'>>;

/** Delay before retry `attempt` (0-based). `random` is injectable so tests can pin the jitter. */
export function retryDelayMs(attempt: number, schedule: RetrySchedule, random: () => number = Math.random): number {
  const { startingDelay, maxDelay, timeMultiple = 2 } = schedule;
  const base = Math.min(maxDelay, startingDelay * timeMultiple ** Math.min(attempt, 30));
  return Math.round(Math.min(maxDelay, Math.max(1, base * (0.8 + 0.4 * random()))));
}
