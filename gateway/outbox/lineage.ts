import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fsyncDirectory } from './fsync-dir.js';

/**
 * Which outbox came before this one. A tiny JSON file beside the outbox (`outbox-lineage.json`)
 * names the outbox last opened there and, after a clean stop, its last seq. It lives outside
 * outbox.db on purpose: a technician who moves outbox.db aside (or deletes it) leaves it behind,
 * so the next start can say on the wire that a new seq space began and where the old one ended
 * (docs/payload.md, `outbox.created`). Written atomically: a temp file, fsync, rename, fsync dir.
 */
export interface LineageRecord {
  outbox: string;
  /** Last seq handed out by that outbox; exact only when `clean` (written at a clean stop). */
  lastSeq: number;
  clean: boolean;
}

export interface OutboxAnnouncement {
  point: 'outbox.created';
  /** The new outbox id. */
  value: string;
  attrs: Record<string, string | number | boolean>;
}

export function lineagePath(outboxPath: string): string {
  return join(dirname(outboxPath), 'outbox-lineage.json');
}

/** The record, or null when there is none or it cannot be read (then nothing is known of the past). */
export function readLineage(path: string): LineageRecord | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  try {
    const r = JSON.parse(text) as Partial<LineageRecord>;
    if (typeof r.outbox !== 'string' || !Number.isSafeInteger(r.lastSeq) || typeof r.clean !== 'boolean') return null;
    return { outbox: r.outbox, lastSeq: r.lastSeq as number, clean: r.clean };
  } catch {
    return null;
  }
}

export function writeLineage(path: string, record: LineageRecord): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o640);
  try {
    writeSync(fd, `${JSON.stringify(record)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDirectory(dirname(path));
}

/**
 * What to announce for the outbox just opened, given the record left by the previous run:
 * nothing when it is the same outbox; `replaced` when another outbox was there (moved aside or
 * deleted), `quarantined` when it was corrupt, `first-start` for a brand-new gateway (no record,
 * fresh outbox). An outbox that predates the record (none, but seqs already used) is not new.
 */
export function announcement(previous: LineageRecord | null, current: { id: string; nextSeq: number; quarantined: boolean }): OutboxAnnouncement | null {
  if (previous?.outbox === current.id) return null;
  if (previous === null) {
    if (current.nextSeq > 1 && !current.quarantined) return null;
    return { point: 'outbox.created', value: current.id, attrs: { reason: current.quarantined ? 'quarantined' : 'first-start', firstSeq: current.nextSeq } };
  }
  return {
    point: 'outbox.created',
    value: current.id,
    attrs: {
      reason: current.quarantined ? 'quarantined' : 'replaced',
      firstSeq: current.nextSeq,
      previousOutbox: previous.outbox,
      previousLastSeq: previous.lastSeq,
      previousLastSeqExact: previous.clean,
    },
  };
}
