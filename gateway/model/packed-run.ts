import { expandPacked, type PackedReadings } from './packed-readings.js';
import type { Reading } from './reading.js';

/**
 * A driver's packed readings (packed-readings.ts) attributed to a device: what the group
 * commit queues and the outbox encodes, beside plain readings. Always telemetry.
 */
export class PackedRun {
  constructor(
    readonly device: string,
    readonly packed: PackedReadings,
  ) {}

  get count(): number {
    return this.packed.count;
  }

  /** As plain readings (for `tail`, or any consumer that wants objects). */
  expand(): Reading[] {
    return expandPacked(this.packed).map((r) => ({ ...r, device: this.device }));
  }
}

/** What the outbox commits: plain readings and packed runs, in emit order. */
export type Committable = Reading | PackedRun;

/** Readings in a list of committables. */
export function readingCount(items: readonly Committable[]): number {
  let n = 0;
  for (const item of items) n += item instanceof PackedRun ? item.count : 1;
  return n;
}

/** The list as plain readings, in order (seq firstSeq + i for the i-th). */
export function expandAll(items: readonly Committable[]): Reading[] {
  return items.flatMap((item) => (item instanceof PackedRun ? item.expand() : [item]));
}
