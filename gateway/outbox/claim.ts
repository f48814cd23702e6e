import type { ClaimedBatch } from '../model/claimed-batch.js';
import type { SharedPart } from '../model/encoded-row.js';
import type { Stream } from '../model/stream.js';
import type { ClaimRow } from './schema.js';
import type { SharedParts } from './shared-parts.js';

export interface ClaimBounds {
  maxReadings: number;
  maxBytes: number;
  holdMs: number;
  now: number;
}

/**
 * A batch from the oldest rows of `source` (SQLite's rows, or the in-memory tail's from index
 * `from`): at least one row, then rows while both bounds hold. With `holdMs`, a batch smaller
 * than `maxReadings` whose oldest row is younger than that is not claimed yet (null), so that at
 * low rates readings travel in fewer, fuller messages. `taken` is how many rows it holds.
 */
export function claimRows(stream: Stream, source: Iterable<ClaimRow> | ClaimRow[], from: number, bounds: ClaimBounds, parts: SharedParts): { batch: ClaimedBatch; taken: number } | null {
  const { maxReadings, maxBytes, holdMs, now } = bounds;
  const bodies: Buffer[] = [];
  const layouts: SharedPart[] = [];
  let count = 0;
  let bytes = 0;
  let first: ClaimRow | undefined;
  let last: ClaimRow | undefined;
  // Lazily: a row can be ~50 KB and a batch needs only a handful; materialising a page of rows
  // per claim made a backlog drain spend its time copying and collecting bodies it threw away.
  const list = Array.isArray(source) ? source : null;
  const iterator = list === null ? (source as Iterable<ClaimRow>)[Symbol.iterator]() : null;
  let taken = 0;
  for (let i = from; ; i++) {
    let row: ClaimRow | undefined;
    if (list !== null) row = list[i];
    else {
      const next = iterator!.next();
      row = next.done ? undefined : next.value;
    }
    if (row === undefined) break;
    // The parts a row adds travel in the same message, so they count against maxBytes.
    const added = row.layouts === null ? [] : parts.newIn(row.layouts, layouts);
    let rowBytes = row.body.length;
    for (const l of added) rowBytes += l.batchBytes;
    if (bodies.length > 0 && (count + row.count > maxReadings || bytes + rowBytes > maxBytes)) break;
    first ??= row;
    bodies.push(row.body);
    layouts.push(...added);
    count += row.count;
    bytes += rowBytes;
    last = row;
    taken++;
  }
  // Stop SQLite's statement now rather than when the iterator is collected.
  iterator?.return?.();
  if (first === undefined || last === undefined) return null;
  if (holdMs > 0 && count < maxReadings && now - first.created_ms < holdMs) return null;
  return {
    taken,
    batch: {
      stream,
      fromKey: first.first_seq,
      toKey: last.first_seq,
      firstSeq: first.first_seq,
      lastSeq: last.first_seq + last.count - 1,
      count,
      bytes,
      bodies,
      layouts,
    },
  };
}
