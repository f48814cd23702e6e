/**
 * Delay before reopen attempt `attempt` (0-based): doubling from `initialMs`, capped at `maxMs`,
 * with +-20 % jitter so gateways that lost power together do not hammer a shared bus in lockstep.
 * Hand-rolled rather than exponential-backoff's `backOff()` because its sleep cannot be
 * cancelled, and `stop()` must release the device at once instead of after up to `maxMs`.
 */
export function reopenDelayMs(attempt: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  const jittered = base * (0.8 + 0.4 * random());
  return Math.round(Math.min(maxMs, Math.max(1, jittered)));
}
