/**
 * The outbox refused a commit or a delete because its disk (or page cap) is full. Group commit
 * branches on it to log once per episode; the readings it refused are already counted.
 */
export class OutboxFullError extends Error {
  readonly code = 'OUTBOX_FULL';
}
