import type { Committable } from './packed-run.js';

/**
 * What passes between the payload module (which decides the wire format) and the outbox (which
 * stores rows without reading them). A row is a run of consecutive seqs already encoded as the
 * bytes the forwarder will concatenate into a batch; the store keeps the bytes, the seqs and the
 * names of the shared parts it needs, and knows nothing else about them.
 */

/**
 * A part many rows share and every batch carrying such a row must include once (payload v2's
 * layouts). The store persists `id` and `text`, and counts `batchBytes` against a claim's byte
 * bound; what they mean is the payload module's business.
 */
export interface SharedPart {
  readonly id: string;
  readonly text: string;
  /** Bytes the part adds to a batch that carries it. */
  readonly batchBytes: number;
}

export interface EncodedRow {
  readonly firstSeq: number;
  /** Readings (seqs) the row covers: firstSeq .. firstSeq + count - 1. */
  readonly count: number;
  /** Valid only during the `onRow` call (the encoder reuses its buffer): copy what you keep. */
  readonly body: Buffer;
  /** Shared parts the row names, each once, in order of first use; empty for none. */
  readonly parts: readonly SharedPart[];
}

/** Encodes what a commit holds into rows; the outbox calls it inside the transaction that assigns the seqs. */
export interface RowEncoder {
  /**
   * Encodes `items` with seqs from `firstSeq` into rows of about `rowMaxReadings` readings,
   * handing each row to `onRow` in order; returns the seq after the last one used.
   */
  encodeRows(items: readonly Committable[], firstSeq: number, rowMaxReadings: number, clockUnsynced: boolean, onRow: (row: EncodedRow) => void): number;
  /** A shared part read back from storage, as `encodeRows` would have handed it. */
  part(id: string, text: string): SharedPart;
}
