/**
 * Suppresses the repeats a scanner in continuous mode sends while a ticket is held under it.
 * Only the most recent code is remembered and each repeat extends the window, so a ticket held
 * for ten seconds is one scan, while the same ticket presented again after a pause is a new one.
 */
export class DuplicateFilter {
  private lastCode: string | null = null;
  private lastSeen = 0;

  constructor(private readonly windowMs: number) {}

  /** True if `code` at `now` is a repeat to drop. */
  isDuplicate(code: string, now: number): boolean {
    const dup = this.windowMs > 0 && code === this.lastCode && now - this.lastSeen < this.windowMs;
    this.lastCode = code;
    this.lastSeen = now;
    return dup;
  }
}
