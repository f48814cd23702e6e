import type { SharedPart } from './encoded-row.js';
import type { Stream } from './stream.js';

/** The oldest pending rows of a stream, claimed for one publish and deleted only on ack. */
export interface ClaimedBatch {
  stream: Stream;
  /** first_seq of the first and last row: the contiguous key range to delete on ack. */
  fromKey: number;
  toKey: number;
  firstSeq: number;
  lastSeq: number;
  count: number;
  /** Row bodies plus the shared parts they add: what the byte bound was checked against. */
  bytes: number;
  /** The rows' encoded bytes, in seq order, as the payload module wrote them. */
  bodies: Buffer[];
  /** Shared parts the batch's rows name, each once (payload v2's layouts); empty when none. */
  layouts: SharedPart[];
}
