import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScenarioFigures } from '../figures.js';
import { sleep, TortureRig, type Profile } from '../rig.js';

/**
 * The outbox runs out of space while the broker is down. New readings must be refused and
 * counted (health `outbox.refused`, log 'outbox full'), nothing already stored may be damaged,
 * and once the broker is back and the backlog drains, commits must succeed again.
 *
 * Two ways to fill it: `page-cap` uses SQLite's max_page_count (`outbox.maxFileBytes`), which
 * any CI box can run; `tmpfs` puts the outbox on a real 3 MB tmpfs next to a ballast file, so
 * SQLite meets a real ENOSPC (needs root / CAP_SYS_ADMIN for mount).
 */
export type DiskFullVariant = 'page-cap' | 'tmpfs';

const FULL = 'outbox full: refusing new readings until space returns; stored readings are untouched';
const ACCEPTS_AGAIN = 'outbox accepts readings again';

export async function diskFullScenario(profile: Profile, variant: DiskFullVariant, opts: { fullForMs: number }): Promise<ScenarioFigures> {
  let mountDir: string | null = null;
  let ballast: string | null = null;
  if (variant === 'tmpfs') {
    mountDir = mkdtempSync(join(tmpdir(), 'edge-gw-tmpfs-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mountDir], { stdio: 'pipe' });
    } catch (err) {
      rmSync(mountDir, { recursive: true, force: true });
      throw new Error(
        `disk-full tmpfs variant: cannot mount a tmpfs at ${mountDir} (needs root or CAP_SYS_ADMIN): ${(err as { stderr?: Buffer }).stderr?.toString().trim() ?? (err as Error).message}`,
      );
    }
    // Something else on the same filesystem (logs, an update) holds a third of it.
    ballast = join(mountDir, 'ballast');
    writeFileSync(ballast, Buffer.alloc(1024 * 1024, 0x5a));
  }
  const rig = await TortureRig.start({
    scenario: `disk-full-${variant}-${profile}`,
    profile,
    devices: 4,
    registersPerDevice: 10,
    pollMs: 25,
    gateway: {
      outbox: variant === 'page-cap' ? { maxFileBytes: '1MB' } : { path: join(mountDir!, 'outbox.db') },
    },
  });
  try {
    const gw = await rig.startGatewayReady();
    await rig.progress(500, 'start');
    await rig.broker.stop();
    const fullLine = await gw.waitForLog((l) => l.msg === FULL, 90_000);
    await sleep(opts.fullForMs);
    const committedWhileFull = rig.sub.tracker.receivedCount;
    if (ballast) rmSync(ballast); // space returns
    await rig.broker.start();
    const again = await gw.waitForLog((l) => l.msg === ACCEPTS_AGAIN, 90_000).catch((err: Error) => {
      throw new Error(`disk-full ${variant}: commits never succeeded again after the broker came back: ${err.message}`);
    });
    // Health is QoS 0 and only published while connected: the first one after the outage says
    // how many readings were refused.
    const refusedNow = (): number => Number(rig.sub.lastHealth?.outbox.refused ?? 0);
    await rig.sub.waitFor(() => refusedNow() > 0, 30_000).catch((err: Error) => {
      throw new Error(`disk-full ${variant}: no health message counting refused readings: ${err.message}${rig.gatewayDied()}`);
    });
    const refused = refusedNow();
    await rig.progress(1000, 'space returned');
    const figures = await rig.finish({
      interruptions: 1,
      extra: { variant, refused, fullErr: String((fullLine.err as { message?: string } | undefined)?.message ?? '').slice(0, 160), fullForMs: Number(again.fullForMs), receivedBeforeRecovery: committedWhileFull },
    });
    return figures;
  } finally {
    await rig.dispose();
    if (mountDir) {
      try {
        execFileSync('umount', [mountDir], { stdio: 'pipe' });
      } finally {
        rmSync(mountDir, { recursive: true, force: true });
      }
    }
  }
}
