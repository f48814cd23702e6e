import { retryDelayMs } from '../../kit/backoff.js';

/**
 * Circuit breaker for one unit on a shared bus. A silent unit costs the bus a full response
 * timeout per request, time every other unit is waiting for; after `threshold` consecutive
 * timeouts the breaker opens and the unit's polls are skipped without touching the bus. Once a
 * backoff has passed (doubling from `minBackoffMs` to `maxBackoffMs`, jittered so units that
 * died together are not probed in lockstep) one poll is let through as a probe (half-open):
 * any reply from the unit closes the breaker, another timeout reopens it with a longer backoff.
 *
 * Only silence counts. A reply, even an exception or a garbled frame, costs the bus no timeout;
 * such faults are counted by the driver, not tripped on.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

export type Admission = 'send' | 'probe' | 'skip';

export interface BreakerOptions {
  threshold: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  random?: () => number;
}

export class UnitBreaker {
  private stateNow: BreakerState = 'closed';
  private consecutiveTimeouts = 0;
  private reopenAttempt = 0;
  private probeAt = 0;
  /** Times the breaker opened (from closed or after a failed probe). */
  opens = 0;

  constructor(private readonly opts: BreakerOptions) {}

  get state(): BreakerState {
    return this.stateNow;
  }

  /** When the next probe may go out (ms epoch), while open. */
  get nextProbeAt(): number | null {
    return this.stateNow === 'open' ? this.probeAt : null;
  }

  admit(now: number): Admission {
    if (this.stateNow === 'closed') return 'send';
    if (this.stateNow === 'open' && now >= this.probeAt) {
      this.stateNow = 'half-open';
      return 'probe';
    }
    return 'skip';
  }

  /** The unit replied (any frame from it). Returns true if this closed an open breaker. */
  answered(): boolean {
    const wasOpen = this.stateNow !== 'closed';
    this.stateNow = 'closed';
    this.consecutiveTimeouts = 0;
    this.reopenAttempt = 0;
    return wasOpen;
  }

  /** A probe ended with neither a reply nor a timeout (port lost, stopping): probe again when next asked. */
  probeInconclusive(now: number): void {
    if (this.stateNow !== 'half-open') return;
    this.stateNow = 'open';
    this.probeAt = now;
  }

  /** The unit stayed silent. Returns true if this opened the breaker. */
  timedOut(now: number): boolean {
    if (this.stateNow === 'closed') {
      this.consecutiveTimeouts++;
      if (this.consecutiveTimeouts < this.opts.threshold) return false;
      this.reopenAttempt = 0;
    } else {
      this.reopenAttempt++;
    }
    this.stateNow = 'open';
    this.opens++;
    this.probeAt = now + retryDelayMs(this.reopenAttempt, { startingDelay: this.opts.minBackoffMs, maxDelay: this.opts.maxBackoffMs }, this.opts.random);
    return true;
  }
}
