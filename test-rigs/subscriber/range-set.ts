/** An inclusive range of sequence numbers, `[from, to]`. */
export type SeqRange = readonly [from: number, to: number];

/**
 * A set of integers stored as sorted, disjoint, non-adjacent inclusive ranges: a million
 * contiguous seqs cost one entry, so a long soak test stays small.
 */
export class RangeSet {
  private readonly list: Array<[number, number]> = [];
  private total = 0;

  /** Adds `[from, to]` and returns how many of those integers were already present. */
  add(from: number, to: number = from): number {
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || to < from) {
      throw new RangeError(`RangeSet.add: [${from}, ${to}] is not a range of safe integers`);
    }
    // First range that overlaps or touches [from, to].
    const lo = this.firstEndingAtOrAfter(from - 1);
    let i = lo;
    let present = 0;
    let merged: [number, number] = [from, to];
    for (; i < this.list.length; i++) {
      const r = this.list[i] as [number, number];
      if (r[0] > to + 1) break;
      present += Math.max(0, Math.min(r[1], to) - Math.max(r[0], from) + 1);
      merged = [Math.min(merged[0], r[0]), Math.max(merged[1], r[1])];
      this.total -= r[1] - r[0] + 1;
    }
    this.list.splice(lo, i - lo, merged);
    this.total += merged[1] - merged[0] + 1;
    return present;
  }

  has(n: number): boolean {
    const r = this.list[this.firstEndingAtOrAfter(n)];
    return r !== undefined && r[0] <= n;
  }

  /** How many integers the set holds. */
  get size(): number {
    return this.total;
  }

  get min(): number | null {
    return this.list[0]?.[0] ?? null;
  }

  get max(): number | null {
    return this.list[this.list.length - 1]?.[1] ?? null;
  }

  ranges(): SeqRange[] {
    return this.list.map(([a, b]) => [a, b] as const);
  }

  /** The parts of `[from, to]` this set does not hold. */
  missingIn(from: number, to: number): SeqRange[] {
    const out: SeqRange[] = [];
    let cursor = from;
    for (let i = this.firstEndingAtOrAfter(from); i < this.list.length && cursor <= to; i++) {
      const [a, b] = this.list[i] as [number, number];
      if (a > to) break;
      if (a > cursor) out.push([cursor, a - 1]);
      cursor = Math.max(cursor, b + 1);
    }
    if (cursor <= to) out.push([cursor, to]);
    return out;
  }

  /** Binary search: index of the first range whose end is >= n (list.length if none). */
  private firstEndingAtOrAfter(n: number): number {
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.list[mid] as [number, number])[1] < n) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
