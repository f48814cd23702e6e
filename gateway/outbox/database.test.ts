import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openDatabase } from './database.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'outbox-database-test-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it('bounds the outbox connection page cache to 1 MiB (better-sqlite3 builds SQLite with a 16 MB default)', () => {
  const { db } = openDatabase({ path: join(dir, 'outbox.db'), durability: 'normal' });
  try {
    // Negative cache_size is KiB, positive is pages.
    const size = db.pragma('cache_size', { simple: true }) as number;
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const bytes = size < 0 ? -size * 1024 : size * pageSize;
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThanOrEqual(1024 * 1024);
    // Dirty pages still spill only past ~16 MB, as with the build default: spilling early needs
    // disk space mid-transaction, which a drain on a full disk does not have (disk-full.test.ts).
    const spillPages = db.pragma('cache_spill', { simple: true }) as number;
    expect(spillPages * pageSize).toBeGreaterThanOrEqual(15 * 1024 * 1024);
  } finally {
    db.close();
  }
});
