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

export async function diskFullScenario(profile: Profile, variant: DiskFullVariant, opts: { fullForMs: number; /** tmpfs: remove the ballast before the broker returns (default true). */ spaceReturns?: boolean }): Promise<ScenarioFigures> {
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
      // The default 4 MB reserve (kept so acks can drain a full disk) would not fit a 3 MB tmpfs.
      outbox: variant === 'page-cap' ? { maxFileBytes: '1MB' } : { path: join(mountDir!, 'outbox.db'), reserveBytes: '512KB' },
    },
  });
  try {
    const gw = await rig.startGatewayReady();
    await rig.progress(500, 'start');
    await rig.broker.stop();
    const fullLine = await gw.waitForLog((l) => l.msg === FULL, 90_000);
    await sleep(opts.fullForMs);
    const committedWhileFull = rig.sub.tracker.receivedCount;
    // Space returns (someone cleans up), or not: then only the drain itself can make room.
    if (ballast && opts.spaceReturns !== false) rmSync(ballast);
    const mark = gw.logs.length;
    await rig.broker.start();
    // The page cap can flap (a small commit fits where a big one did not), so an 'accepts again'
    // logged while the broker was still down proves nothing: look only at lines after the restart,
    // and at the outbox's own numbers in the health messages.
    const health = (): { nextSeq: number; pending: number; refused: number } => {
      const o = rig.sub.lastHealth?.outbox;
      return { nextSeq: Number(o?.nextSeq ?? 0), pending: Number(o?.pendingReadings ?? Number.POSITIVE_INFINITY), refused: Number(o?.refused ?? 0) };
    };
    const waitHealth = (what: string, cond: (h: ReturnType<typeof health>) => boolean): Promise<void> =>
      rig.sub.waitFor(() => cond(health()), 90_000).catch((err: Error) => {
        throw new Error(`disk-full ${variant}: ${what}: ${err.message}; last health outbox ${JSON.stringify(rig.sub.lastHealth?.outbox)}${rig.gatewayDied()}`);
      });
    // Health is QoS 0 and only published while connected: the first one after the outage says
    // how many readings were refused.
    await waitHealth('no health message counting refused readings', (h) => h.refused > 0);
    const refused = health().refused;
    await waitHealth('the backlog never drained', (h) => h.pending < 2_000);
    const drainedAt = health().nextSeq;
    await waitHealth('no new commits after the drain', (h) => h.nextSeq >= drainedAt + 1_000);
    const again = gw.logs.find((l, i) => i >= mark && l.msg === ACCEPTS_AGAIN);
    const fullAfterDrain = gw.logs.filter((l, i) => i >= mark && l.msg === FULL).length;
    await rig.progress(1000, 'space returned');
    const figures = await rig.finish({
      interruptions: 1,
      extra: { variant, spaceReturned: variant === 'tmpfs' ? opts.spaceReturns !== false : null, refused, fullErr: String((fullLine.err as { message?: string } | undefined)?.message ?? '').slice(0, 160), fullForMs: again === undefined ? null : Number(again.fullForMs), fullEpisodesAfterRestart: fullAfterDrain, receivedBeforeRecovery: committedWhileFull },
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
