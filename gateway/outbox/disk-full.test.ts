import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeAsRoot, isRoot } from '../../test-rigs/system/root.js';
import type { Reading } from '../model/reading.js';
import { OutboxFullError } from '../model/outbox-full.js';
import { rowEncoder } from '../payload/encode.js';
import { Outbox } from './outbox.js';

/**
 * A real ENOSPC, on a 2 MB tmpfs: SQLite's page cap cannot reproduce what matters here, that in
 * WAL mode the deletes which would free space need free space themselves. Needs root (mount);
 * CI runs as root. As another user it is skipped and named at the end of the run (root-report.ts).
 */
let mountDir: string;
beforeAll(() => {
  if (!isRoot) return;
  mountDir = mkdtempSync(join(tmpdir(), 'outbox-enospc-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountDir], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`this test mounts a 2 MB tmpfs and needs root: ${(err as { stderr?: Buffer }).stderr?.toString().trim() ?? String(err)}`);
  }
});
afterAll(() => {
  if (!isRoot) return;
  try {
    execFileSync('umount', ['-l', mountDir]);
  } finally {
    rmSync(mountDir, { recursive: true, force: true });
  }
});

function readings(n: number): Reading[] {
  return Array.from({ length: n }, (_, i) => ({ device: 'dev', point: `p${i % 20}`, value: i * 1.5, quality: 'good' as const, ts: 1_700_000_000_000 + i }));
}

describeAsRoot('outbox on a full filesystem', () => {
  it('refuses new readings, still drains what it stored, and accepts again once space returns', () => {
    const path = join(mountDir, 'outbox.db');
    const ob = new Outbox({ path, durability: 'normal', encoder: rowEncoder(1), rowMaxReadings: 500, retention: { maxBytes: 1e9, maxAgeMs: 1e9 }, reserveBytes: 256 * 1024 });
    expect(existsSync(`${path}.reserve`)).toBe(true);
    let committed = 0;
    let full: unknown;
    for (let i = 0; i < 1000 && !full; i++) {
      try {
        ob.append('telemetry', readings(500));
        committed += 500;
      } catch (err) {
        full = err;
      }
    }
    expect(full).toBeInstanceOf(OutboxFullError);
    expect(committed).toBeGreaterThan(0);
    expect(ob.stats().pendingReadings).toBe(committed);

    // Drain everything: the first ack that hits ENOSPC gets the reserve, the rest follow.
    let drained = 0;
    for (let batch = ob.claim('telemetry', 5000, 1e9); batch; batch = ob.claim('telemetry', 5000, 1e9)) {
      ob.ack(batch);
      drained += batch.count;
    }
    expect(drained).toBe(committed);
    expect(ob.stats().pendingReadings).toBe(0);
    // Space came back: the reserve is laid down again and new readings are accepted.
    expect(ob.accepting).toBe(true);
    const seq = ob.append('telemetry', readings(10));
    expect(seq).toBe(committed + 1); // refused readings never consumed a sequence number
    ob.close();
    for (const suffix of ['', '-wal', '-shm', '.reserve']) rmSync(path + suffix, { force: true });
  });

  it('while the reserve is given away, new readings are refused so the drain keeps its space', () => {
    const path = join(mountDir, 'outbox2.db');
    const ballast = join(mountDir, 'ballast');
    const ob = new Outbox({ path, durability: 'normal', encoder: rowEncoder(1), rowMaxReadings: 500, retention: { maxBytes: 1e9, maxAgeMs: 1e9 }, reserveBytes: 256 * 1024 });
    for (let i = 0; i < 1000; i++) {
      try {
        ob.append('telemetry', readings(500));
      } catch {
        break;
      }
    }
    // Someone else fills the rest of the disk too.
    try {
      writeFileSync(ballast, Buffer.alloc(4 * 1024 * 1024));
    } catch {
      // ENOSPC part-way is the point.
    }
    const batch = ob.claim('telemetry', 500, 1e9)!;
    ob.ack(batch); // the delete hits ENOSPC and succeeds on the reserve
    expect(ob.accepting).toBe(false);
    expect(() => ob.append('telemetry', readings(1))).toThrow(/draining before accepting new readings/);
    rmSync(ballast);
    for (let b = ob.claim('telemetry', 5000, 1e9); b; b = ob.claim('telemetry', 5000, 1e9)) ob.ack(b);
    expect(ob.accepting).toBe(true);
    ob.close();
  });
});
