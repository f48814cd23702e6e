import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { mountPowerCutFs } from '../../power-cut-fs/power-cut-fs.js';
import { seededRandom, seedFromEnv } from '../seeded-random.js';
import { sleep, TortureRig, type Profile } from '../rig.js';
import type { ScenarioFigures } from '../figures.js';

/**
 * Power cuts, not SIGKILLs: the outbox lives on power-cut-fs, and after each SIGKILL everything
 * the daemon never fsynced is thrown away before it restarts on the same outbox. Four Modbus
 * devices × 20 registers every 50 ms (1,600 readings/s), broker up, cuts at random moments:
 * during start-up and recovery, mid group commit and publish, and now and then after a long
 * enough run for SQLite's automatic checkpoint to be under way.
 *
 * Verdict on top of the shared one (every committed seq arrived or was declared): no seq arrived
 * twice with different content, the outbox kept its id (no silent new seq space), no reserve file
 * shorter than configured after a cut, and in `strict` nothing declared at all.
 */
const RESERVE_BYTES = 1024 * 1024;

export async function powerCutScenario(profile: Profile, durability: 'normal' | 'strict', cuts: number): Promise<ScenarioFigures> {
  const seed = seedFromEnv();
  const random = seededRandom(seed);
  const name = `power-cut-${durability}-${profile}`;
  process.stderr.write(`[torture] ${name}: seed ${seed} (replay with TORTURE_SEED=${seed})\n`);
  const fs = await mountPowerCutFs();
  const outboxPath = join(fs.mountpoint, 'outbox.db');
  let rig: TortureRig | null = null;
  try {
    rig = await TortureRig.start({
      scenario: name,
      profile,
      devices: 4,
      registersPerDevice: 20,
      pollMs: 50,
      gateway: { outbox: { path: outboxPath, durability, commitInterval: '50ms', reserveBytes: RESERVE_BYTES } },
    });
    let cutBeforeReady = 0;
    let reserveShort = 0;
    for (let k = 0; k < cuts; k++) {
      const gw = rig.startGateway();
      const roll = random();
      if (roll < 0.2) {
        // During start-up: opening the outbox, recovery, first connect, the first commits.
        await sleep(50 + random() * 900);
        if (!gw.logs.some((l) => l.msg === 'gateway running')) cutBeforeReady++;
      } else {
        await gw.ready(30_000).catch((err: Error) => {
          throw new Error(`${name} run ${k + 1}: ${err.message}\nstderr:\n${gw.stderr.join('\n')}`);
        });
        // Mostly mid commit / mid publish; one in ten long enough for an automatic checkpoint.
        await sleep(roll < 0.9 ? 100 + random() * 2400 : 3000 + random() * 5000);
      }
      const exit = await gw.kill('SIGKILL');
      if (exit.signal !== 'SIGKILL') {
        throw new Error(`${name} run ${k + 1} ended on its own (code ${exit.code}) before the cut; stderr:\n${gw.stderr.join('\n')}`);
      }
      fs.cut();
      const reserve = `${outboxPath}.reserve`;
      if (existsSync(reserve) && statSync(reserve).size < RESERVE_BYTES) reserveShort++;
    }
    await rig.startGatewayReady();
    await rig.progress(1000, `${cuts} power cuts`);
    const skips = rig.logs().filter((l) => l.msg === 'outbox skipped seqs after an unclean stop');
    const f = await rig.finish({
      interruptions: cuts,
      // In `normal` a cut also rolls back deletes of acknowledged rows since the last sync: they
      // are sent again (same content), up to one reserved seq block per cut.
      duplicatesPerInterruption: durability === 'normal' ? 20_000 : rig.killDuplicates,
      extra: { seed, durability, cutBeforeReady, reserveShort, declaredRanges: skips.length, fsStats: fs.stats() },
    });
    expect(f.reused, `${name}: seqs that arrived twice with different content`).toBe(0);
    expect(f.outboxIds, `${name}: outbox ids seen (a new id without a quarantine means a silently new seq space)`).toBe(1);
    expect(reserveShort, `${name}: cuts after which the reserve file was shorter than ${RESERVE_BYTES} bytes`).toBe(0);
    if (durability === 'strict') expect(f.declaredRanges, `${name}: strict must never need to skip seqs`).toBe(0);
    return f;
  } finally {
    await rig?.dispose();
    await fs.unmount();
  }
}
