/**
 * The one retry schedule of the gateway: every driver (reconnect, reopen, a tripped breaker's
 * probe) and the forwarder's broker reconnect use it. Exponential from `startingDelay` by
 * `timeMultiple` (default 2), capped at `maxDelay`. Jitter is +-20 % (never above
 * `maxDelay`): a cabinet full of devices that lost the same switch or power feed must not retry
 * in lockstep, yet the delay stays near the schedule instead of collapsing towards zero the way
 * full jitter can (a serial adapter reopened too soon after an unplug only fails again).
 *
 * Only the schedule is computed here, not the loop (exponential-backoff's `backOff()` sleeps on
 * a timer it cannot cancel): a driver's stop() must release its socket or port at once instead of after up to
 * `maxDelay`, and `status` shows when the forwarder's next attempt starts. Callers sleep on
 * InterruptibleSleep or an AbortSignal instead.
 */
export interface RetrySchedule {
  startingDelay: number;
  maxDelay: number;
  timeMultiple?: number;
}

/** Delay before retry `attempt` (0-based). `random` is injectable so tests can pin the jitter. */
export function retryDelayMs(attempt: number, schedule: RetrySchedule, random: () => number = Math.random): number {
  const { startingDelay, maxDelay, timeMultiple = 2 } = schedule;
  const base = Math.min(maxDelay, startingDelay * timeMultiple ** Math.min(attempt, 30));
  return Math.round(Math.min(maxDelay, Math.max(1, base * (0.8 + 0.4 * random()))));
}
