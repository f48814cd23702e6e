import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeWithFuse } from '../../test-rigs/system/root.js';
import { mountPowerCutFs, type PowerCutFs } from '../../test-rigs/power-cut-fs/power-cut-fs.js';
import { DiskReserve } from './disk-reserve.js';
import { Outbox, SEQ_BLOCK } from './outbox.js';

/**
 * The outbox across a real power cut (test-rigs/power-cut-fs): a child process commits readings
 * and reports each seq as it would be published, is SIGKILLed, everything it never fsynced is
 * discarded, and the outbox is opened again on what is left.
 */
const BUILT = join(import.meta.dirname, '../../dist/gateway/outbox/outbox.js');
const BUILT_RESERVE = join(import.meta.dirname, '../../dist/gateway/outbox/disk-reserve.js');
const RESERVE = 256 * 1024;

async function commitUntilCut(path: string, durability: 'normal' | 'strict', commits: number): Promise<{ id: string; lastHandedOut: number }> {
  const script = `
    const { Outbox } = await import(${JSON.stringify(BUILT)});
    const ob = new Outbox({ path: ${JSON.stringify(path)}, durability: '${durability}', rowMaxReadings: 500,
      retention: { maxBytes: 1e9, maxAgeMs: 864e5 }, reserveBytes: ${RESERVE} });
    const r = (i) => ({ device: 'dev', point: 'p' + (i % 20), value: i, quality: 'good', ts: Date.now() });
    console.log('id ' + ob.id);
    for (let c = 0; c < ${commits}; c++) {
      ob.append('telemetry', Array.from({ length: 100 }, (_, i) => r(c * 100 + i)));
      // What the forwarder could publish from here on.
      console.log('handed ' + (ob.nextSequence - 1));
    }
    console.log('done');
    setInterval(() => undefined, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  let id = '';
  let lastHandedOut = 0;
  for await (const line of createInterface({ input: child.stdout })) {
    if (line.startsWith('id ')) id = line.slice(3);
    if (line.startsWith('handed ')) lastHandedOut = Number(line.slice(7));
    if (line === 'done') break;
  }
  child.kill('SIGKILL');
  await once(child, 'exit');
  if (!id) throw new Error(`outbox child failed: ${stderr}`);
  return { id, lastHandedOut };
}

function reopen(path: string, durability: 'normal' | 'strict'): Outbox {
  return new Outbox({ path, durability, rowMaxReadings: 500, retention: { maxBytes: 1e9, maxAgeMs: 864e5 }, reserveBytes: RESERVE });
}

describeWithFuse('outbox across a power cut', () => {
  let fs: PowerCutFs;
  beforeEach(async () => {
    if (!existsSync(BUILT)) throw new Error(`${BUILT} missing: run npm run build first (npm test does)`);
    fs = await mountPowerCutFs();
  });
  afterEach(async () => {
    await fs.unmount();
  });

  for (const durability of ['normal', 'strict'] as const) {
    it(`${durability}: keeps its id, never hands a published seq out again, declares what it skips, keeps its reserve`, async () => {
      const path = join(fs.mountpoint, 'outbox.db');
      // 60 commits of 100: past the first reserved block, and before any automatic checkpoint.
      const before = await commitUntilCut(path, durability, 60);
      expect(before.lastHandedOut).toBe(6000);
      fs.cut();
      const after = reopen(path, durability);
      try {
        expect(after.id).toBe(before.id);
        expect(after.nextSequence).toBeGreaterThan(before.lastHandedOut);
        if (durability === 'strict') {
          expect(after.skipped).toBeNull();
          expect(after.nextSequence).toBe(before.lastHandedOut + 1);
        } else {
          // Everything between what survived and the reserved block's end is declared.
          expect(after.skipped).not.toBeNull();
          expect(after.skipped!.toSeq).toBeGreaterThanOrEqual(before.lastHandedOut);
          expect(after.skipped!.toSeq).toBeLessThan(before.lastHandedOut + SEQ_BLOCK + 100);
          expect(after.nextSequence).toBe(after.skipped!.toSeq + 1);
          expect(after.stats().lastSkips).toEqual([after.skipped]);
        }
        expect(statSync(`${path}.reserve`).size, 'reserve file after the cut').toBe(RESERVE);
      } finally {
        after.close();
      }
    }, 60_000);
  }

  it('a cut while the reserve is being laid down leaves no short reserve, and the next start lays it down', async () => {
    const path = join(fs.mountpoint, 'outbox.db.reserve');
    const bytes = 48 * 1024 * 1024;
    const script = `
      const { DiskReserve } = await import(${JSON.stringify(BUILT_RESERVE)});
      new DiskReserve(${JSON.stringify(path)}, ${bytes});
      console.log('done');
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Kill it mid-write: some file of the reserve's has part of its bytes.
    const partial = (p: string) => existsSync(p) && statSync(p).size > 0 && statSync(p).size < bytes;
    let caughtMidWrite = false;
    for (let i = 0; i < 2000 && child.exitCode === null; i++) {
      if (partial(path) || partial(`${path}.tmp`)) {
        child.kill('SIGKILL');
        caughtMidWrite = true;
        break;
      }
      await sleep(2);
    }
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    expect(caughtMidWrite, 'the child was stopped while it was writing the reserve').toBe(true);
    fs.cut();
    // Absent or full, never short: a short file would pass for a held reserve.
    expect(existsSync(path) ? statSync(path).size : 'absent').toBeOneOf(['absent', bytes]);
    const reserve = new DiskReserve(path, bytes);
    expect(reserve.isHeld).toBe(true);
    expect(statSync(path).size).toBe(bytes);
    expect(existsSync(`${path}.tmp`)).toBe(false);
  }, 60_000);
});
