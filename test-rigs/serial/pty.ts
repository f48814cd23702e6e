/**
 * Real pseudo-terminal pairs for serial tests, made by socat:
 *
 *   const pair = await createPtyPair();         // pair.a, pair.b: symlinks in a fresh temp dir
 *   // driver opens pair.a as if it were /dev/serial/by-id/...; the simulator writes pair.b
 *   await pair.unplug();                         // socat dies, both links vanish (like a USB pull)
 *   await pair.replug();                         // new socat, same link paths, new /dev/pts/N
 *   await pair.close();                          // idempotent; also removes the temp dir
 *
 * Bytes written to one end arrive at the other unchanged (raw, no echo). The temp dir is
 * private, so parallel tests never share a link. socat runs in its own process group and is
 * killed by group on unplug/close; an exit handler kills any pair a crashed test forgot.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readlink, rm, lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PtyPair {
  /** Link to one end; give this to the driver. */
  readonly a: string;
  /** Link to the other end; the simulator writes here. */
  readonly b: string;
  /** The /dev/pts nodes the links currently point at (change on every replug). */
  devices(): Promise<{ a: string; b: string }>;
  unplug(): Promise<void>;
  replug(): Promise<void>;
  close(): Promise<void>;
}

export interface PtyPairOptions {
  /** How long to wait for socat to create both links. */
  timeoutMs?: number;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    // already gone
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) killGroup(child);
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`pty rig: timed out after ${timeoutMs} ms waiting for ${what}`);
}

function startSocat(a: string, b: string): { child: ChildProcess; stderr: () => string } {
  let err = '';
  const child = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    err = (err + d).slice(-2000);
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return { child, stderr: () => err };
}

async function stopSocat(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  killGroup(child);
  const timer = setTimeout(() => {
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }, timeoutMs);
  await exited;
  clearTimeout(timer);
}

export async function createPtyPair(opts: PtyPairOptions = {}): Promise<PtyPair> {
  installExitHook();
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const dir = await mkdtemp(join(tmpdir(), 'edge-pty-'));
  const a = join(dir, 'dev-a');
  const b = join(dir, 'dev-b');
  let current: ReturnType<typeof startSocat> | null = null;
  let closed = false;

  const plug = async (): Promise<void> => {
    const started = startSocat(a, b);
    current = started;
    let exitedEarly = false;
    started.child.once('exit', () => (exitedEarly = true));
    await waitFor(async () => exitedEarly || ((await exists(a)) && (await exists(b))), timeoutMs, `socat links ${a}, ${b}`);
    if (exitedEarly) throw new Error(`pty rig: socat exited early: ${started.stderr()}`);
  };

  const unplug = async (): Promise<void> => {
    const c = current;
    current = null;
    if (!c) return;
    await stopSocat(c.child, timeoutMs);
    // socat removes its links on SIGTERM; make sure, so a "pulled" device is really gone.
    await rm(a, { force: true });
    await rm(b, { force: true });
  };

  await plug();
  return {
    a,
    b,
    devices: async () => ({ a: await readlink(a), b: await readlink(b) }),
    unplug,
    replug: async () => {
      if (closed) throw new Error('pty rig: replug after close');
      if (current) throw new Error('pty rig: replug while still plugged');
      await plug();
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await unplug();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
