/**
 * Read-only looks at an outbox file after the daemon has stopped (never while it runs: a reader
 * could hold back a checkpoint and change what is being tested). The outbox owns its layout.
 */
export { committedUpTo, integrityCheck, outboxId, pendingReadings, storedRanges } from '../../gateway/outbox/inspect.js';
