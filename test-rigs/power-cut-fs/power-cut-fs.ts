import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The power-cut filesystem (power-cut-fs.py, FUSE) as a child process: a mount whose un-fsynced
 * writes live only in memory until `cut()` throws them away. See README.md in this directory for
 * its exact semantics. CI must install the Debian packages in DEBIAN_PACKAGES and run as root.
 */
export const DEBIAN_PACKAGES = ['fuse3', 'python3-fusepy'];

const SCRIPT = join(import.meta.dirname, 'power-cut-fs.py');
// Debian's python3, where python3-fusepy lives (not a pyenv/venv python on PATH).
const PYTHON = '/usr/bin/python3';
const CONTROL = '.power-cut';

export interface PowerCutStats {
  fsyncs: number;
  cuts: number;
  discardedBytes: number;
  discardedFiles: number;
  syncedBytes: number;
}

export interface PowerCutFs {
  /** Where to put files under test. */
  readonly mountpoint: string;
  /** Where their durable content lies. */
  readonly backing: string;
  /** Discard every un-synced write. Kill the writers first: a power cut takes them down too. */
  cut(): void;
  stats(): PowerCutStats;
  unmount(): Promise<void>;
}

export interface PowerCutFsOptions {
  /** Added to every fsync/fdatasync (slow SD-card storage). */
  fsyncDelayMs?: number;
  startTimeoutMs?: number;
}

export async function mountPowerCutFs(opts: PowerCutFsOptions = {}): Promise<PowerCutFs> {
  const root = mkdtempSync(join(tmpdir(), 'power-cut-fs-'));
  const backing = join(root, 'backing');
  const mountpoint = join(root, 'mnt');
  mkdirSync(backing);
  mkdirSync(mountpoint);
  const args = [SCRIPT, backing, mountpoint];
  if (opts.fsyncDelayMs) args.push('--fsync-delay-ms', String(opts.fsyncDelayMs));
  const child: ChildProcess = spawn(PYTHON, ['-W', 'ignore::DeprecationWarning', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr: string[] = [];
  child.stderr!.on('data', (c: Buffer) => stderr.push(c.toString()));
  const exited = once(child, 'exit');
  const control = join(mountpoint, CONTROL);

  const unmount = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      // fusermount detaches lazily if a file is still open; the filesystem process then exits.
      spawnSync('fusermount3', ['-u', '-z', mountpoint], { stdio: 'ignore' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(root, { recursive: true, force: true });
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 10_000);
  while (!isMounted(mountpoint) || !existsSync(control)) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await unmount();
      throw new Error(
        `power-cut-fs did not mount at ${mountpoint} (needs root, /dev/fuse, Debian ${DEBIAN_PACKAGES.join(' ')}): ${stderr.join('').trim() || 'timed out'}`,
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }

  return {
    mountpoint,
    backing,
    cut: () => writeFileSync(control, 'cut\n'),
    stats: () => JSON.parse(readFileSync(control, 'utf8')) as PowerCutStats,
    unmount,
  };
}

function isMounted(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[4] === path);
}
