/**
 * Delay before reconnect attempt `attempt` (0-based): exponential from `minMs`, capped at `maxMs`,
 * with "equal jitter" (uniform in [d/2, d]) so a cabinet full of devices that lost the same
 * switch do not reconnect in lockstep, while the delay never collapses to zero. The
 * exponential-backoff package's own loop cannot be interrupted by stop(), so only the schedule
 * is computed here and the driver's sleep stays cancellable.
 */
export function reconnectDelayMs(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
