export interface DampedObservation<S> {
  state: S;
  changed: boolean;
  previous: S | undefined;
}

/**
 * Holds a reported state until `threshold` consecutive observations disagree with it, then takes
 * the latest, so a camera on a lossy link does not spray state-change events. The very first
 * observation is taken at once: a command centre should not wait N intervals to learn a camera exists.
 */
export class FlapDamper<S> {
  #state: S | undefined;
  #candidate: S | undefined;
  #streak = 0;

  constructor(readonly threshold: number) {}

  get state(): S | undefined {
    return this.#state;
  }

  /** How many consecutive observations currently disagree with the reported state. */
  get pending(): { state: S; streak: number } | undefined {
    return this.#candidate === undefined ? undefined : { state: this.#candidate, streak: this.#streak };
  }

  observe(raw: S): DampedObservation<S> {
    if (this.#state === undefined) {
      this.#state = raw;
      return { state: raw, changed: true, previous: undefined };
    }
    if (raw === this.#state) {
      this.#candidate = undefined;
      this.#streak = 0;
      return { state: raw, changed: false, previous: this.#state };
    }
    // Count disagreement, not one particular new state: a camera bouncing between degraded and
    // offline is still clearly not online and must not be held there forever.
    this.#candidate = raw;
    this.#streak += 1;
    if (this.#streak < this.threshold) return { state: this.#state, changed: false, previous: this.#state };
    const previous = this.#state;
    this.#state = raw;
    this.#candidate = undefined;
    this.#streak = 0;
    return { state: raw, changed: true, previous };
  }
}
