import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { announcement, lineagePath, readLineage, writeLineage } from './lineage.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('outbox lineage', () => {
  it('round-trips the record beside the outbox, and reads a damaged one as unknown', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lineage-'));
    dirs.push(dir);
    const path = lineagePath(join(dir, 'outbox.db'));
    expect(path).toBe(join(dir, 'outbox-lineage.json'));
    expect(readLineage(path)).toBeNull();
    writeLineage(path, { outbox: 'a', lastSeq: 41, clean: true });
    expect(readLineage(path)).toEqual({ outbox: 'a', lastSeq: 41, clean: true });
    writeFileSync(path, '{"outbox":');
    expect(readLineage(path)).toBeNull();
  });

  it('announces a replaced, a quarantined and a first outbox, and nothing for the same one', () => {
    const prev = { outbox: 'old', lastSeq: 500, clean: true };
    expect(announcement(prev, { id: 'old', nextSeq: 501, quarantined: false })).toBeNull();
    expect(announcement(prev, { id: 'new', nextSeq: 1, quarantined: false })).toEqual({
      point: 'outbox.created', value: 'new',
      attrs: { reason: 'replaced', firstSeq: 1, previousOutbox: 'old', previousLastSeq: 500, previousLastSeqExact: true },
    });
    expect(announcement({ ...prev, clean: false }, { id: 'new', nextSeq: 501, quarantined: true })?.attrs).toMatchObject({ reason: 'quarantined', previousLastSeqExact: false });
    expect(announcement(null, { id: 'new', nextSeq: 1, quarantined: false })?.attrs).toEqual({ reason: 'first-start', firstSeq: 1 });
    // An outbox older than the lineage file is not new.
    expect(announcement(null, { id: 'old', nextSeq: 90, quarantined: false })).toBeNull();
  });
});
