import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeWithFuse } from '../../test-rigs/system/root.js';
import { eachPowerCutFs, runWriterUntilDone } from '../../test-rigs/power-cut-fs/writer-child.js';
import { DiskReserve } from './disk-reserve.js';
import { rowEncoder } from '../payload/encode.js';
import { Outbox } from './outbox.js';
import { SEQ_BLOCK } from './seq-reservation.js';

/**
 * The outbox across a real power cut (test-rigs/power-cut-fs): a child process commits readings
 * and reports each seq as it would be published, is SIGKILLed, everything it never fsynced is
 * discarded, and the outbox is opened again on what is left.
 */
const BUILT = join(import.meta.dirname, '../../dist/gateway/outbox/outbox.js');
const BUILT_ENCODE = join(import.meta.dirname, '../../dist/gateway/payload/encode.js');
const BUILT_RESERVE = join(import.meta.dirname, '../../dist/gateway/outbox/disk-reserve.js');
const RESERVE = 256 * 1024;

async function commitUntilCut(path: string, durability: 'normal' | 'strict', commits: number): Promise<{ id: string; lastHandedOut: number }> {
  const script = `
    const { Outbox } = await import(${JSON.stringify(BUILT)});
    const { rowEncoder } = await import(${JSON.stringify(BUILT_ENCODE)});
    const ob = new Outbox({ path: ${JSON.stringify(path)}, durability: '${durability}', rowMaxReadings: 500, encoder: rowEncoder(1),
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
  let id = '';
  let lastHandedOut = 0;
  for (const line of await runWriterUntilDone(script)) {
    if (line.startsWith('id ')) id = line.slice(3);
    if (line.startsWith('handed ')) lastHandedOut = Number(line.slice(7));
  }
  return { id, lastHandedOut };
}

function reopen(path: string, durability: 'normal' | 'strict'): Outbox {
  return new Outbox({ path, durability, rowMaxReadings: 500, encoder: rowEncoder(1), retention: { maxBytes: 1e9, maxAgeMs: 864e5 }, reserveBytes: RESERVE });
}

describeWithFuse('outbox across a power cut', () => {
  const powerCutFs = eachPowerCutFs(BUILT);

  for (const durability of ['normal', 'strict'] as const) {
    it(`${durability}: keeps its id, never hands a published seq out again, declares what it skips, keeps its reserve`, async () => {
      const path = join(powerCutFs().mountpoint, 'outbox.db');
      // 60 commits of 100: past the first reserved block, and before any automatic checkpoint.
      const before = await commitUntilCut(path, durability, 60);
      expect(before.lastHandedOut).toBe(6000);
      powerCutFs().cut();
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
    const path = join(powerCutFs().mountpoint, 'outbox.db.reserve');
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
    powerCutFs().cut();
    // Absent or full, never short: a short file would pass for a held reserve.
    expect(existsSync(path) ? statSync(path).size : 'absent').toBeOneOf(['absent', bytes]);
    const reserve = new DiskReserve(path, bytes);
    expect(reserve.isHeld).toBe(true);
    expect(statSync(path).size).toBe(bytes);
    expect(existsSync(`${path}.tmp`)).toBe(false);
  }, 60_000);
});
