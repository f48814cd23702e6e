import type { EncodedRow, RowEncoder, SharedPart } from '../model/encoded-row.js';
import { PackedRun, type Committable } from '../model/packed-run.js';
import type { Reading } from '../model/reading.js';
import { layoutOf, makeLayout } from './layouts.js';
import { RowWriter } from './row-writer.js';

/**
 * Payload format version (docs/payload.md); bumped only with a documented, breaking change.
 * 1 is the default; 2 (poll records) is opt-in with `forward.payloadVersion`.
 */
export type PayloadVersion = 1 | 2;
export const PAYLOAD_VERSION: PayloadVersion = 1;

/**
 * How a commit becomes outbox rows: readings are encoded to their payload JSON once, at commit
 * time, inside the transaction that assigns their seqs, and stored that way; the forwarder then
 * only concatenates rows. The version decides what a driver's packed run becomes: v1, one reading
 * object per value; v2, one poll record per run, its layout a shared part the outbox stores once.
 */
export function rowEncoder(version: PayloadVersion): RowEncoder {
  return new PayloadRows(version === 2);
}

const NO_PARTS: readonly SharedPart[] = [];

class PayloadRows implements RowEncoder {
  private readonly w = new RowWriter();

  constructor(private readonly records: boolean) {}

  encodeRows(items: readonly Committable[], firstSeq: number, rowMax: number, clockUnsynced: boolean, onRow: (row: EncodedRow) => void): number {
    const w = this.w;
    let seq = firstSeq;
    let inRow = 0;
    let rowFirst = seq;
    let parts: SharedPart[] | null = null;
    const endRow = () => {
      onRow({ firstSeq: rowFirst, count: inRow, body: w.take(), parts: parts ?? NO_PARTS });
      inRow = 0;
      rowFirst = seq;
      parts = null;
    };
    for (const item of items) {
      if (!(item instanceof PackedRun)) {
        if (inRow > 0) w.comma();
        w.reading(item, seq++, clockUnsynced);
        if (++inRow === rowMax) endRow();
      } else if (this.records) {
        // A record is never split across rows (subscribers get whole polls), so a row may end
        // up to one poll past rowMax.
        const layout = layoutOf(item.packed.points, item.device);
        if (inRow > 0) w.comma();
        w.record(item, layout, seq, clockUnsynced);
        parts ??= [];
        if (!parts.some((p) => p.id === layout.id)) parts.push(layout);
        seq += item.count;
        inRow += item.count;
        if (inRow >= rowMax) endRow();
      } else {
        // A packed run may straddle rows: split it at the row boundary.
        for (let i = 0; i < item.count; ) {
          const take = Math.min(item.count - i, rowMax - inRow);
          if (inRow > 0) w.comma();
          w.packed(item, i, i + take, seq, clockUnsynced);
          seq += take;
          inRow += take;
          i += take;
          if (inRow === rowMax) endRow();
        }
      }
    }
    if (inRow > 0) endRow();
    return seq;
  }

  part(id: string, text: string): SharedPart {
    return makeLayout(id, text);
  }
}

const single = new RowWriter();

/** One reading as its payload JSON (the bytes a row holds for it), for tools and tests. */
export function encodeReading(r: Reading, seq: number, clockUnsynced: boolean): string {
  single.reading(r, seq, clockUnsynced);
  return single.take().toString('utf8');
}
