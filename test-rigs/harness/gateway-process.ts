import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DAEMON_NODE_FLAGS } from '../../gateway/node-flags.js';

/**
 * The real daemon as a child process (`node dist/gateway/cli.js run`), so tests can SIGKILL it
 * and restart it on the same outbox exactly as systemd would. Its NDJSON log is parsed and kept.
 */
// Tests run this file from source (vitest) and the demo from dist/: both spawn the built CLI.
const ROOT = join(import.meta.dirname, '../..');
export const CLI = ROOT.endsWith('dist') ? join(ROOT, 'gateway/cli.js') : join(ROOT, 'dist/gateway/cli.js');

export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

/** Children still running when the test process exits (a failed test skips its cleanup) die with it. */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export class GatewayProcess {
  readonly logs: LogLine[] = [];
  readonly stderr: string[] = [];
  private exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        this.logs.push(JSON.parse(line) as LogLine);
      } catch {
        this.logs.push({ level: 30, msg: line });
      }
    });
    createInterface({ input: child.stderr! }).on('line', (line) => this.stderr.push(line));
    live.add(child);
    // 'exit' can come before the last stdout lines are read; a test that checks the log of a
    // daemon that refused to start needs all of them. Bounded, in case a grandchild holds the pipe.
    const stdoutDone = new Promise<void>((resolve) => {
      if (child.stdout!.readableEnded) resolve();
      else child.stdout!.once('close', () => resolve());
    });
    this.exited = once(child, 'exit').then(async ([code, signal]) => {
      live.delete(child);
      await Promise.race([stdoutDone, new Promise((r) => setTimeout(r, 2000).unref())]);
      return { code: code as number | null, signal: signal as NodeJS.Signals | null };
    });
  }

  /**
   * `wrapper` runs the daemon through another command, e.g. setpriv to drop to another user;
   * `command` replaces `node <flags> dist/gateway/cli.js`, e.g. an installed package's launcher.
   */
  static start(
    configDir: string,
    opts: {
      env?: Record<string, string>;
      args?: string[];
      wrapper?: string[];
      command?: readonly string[];
      /** Own process group: a terminal's Ctrl-C then reaches only the caller, which stops the daemon with one SIGTERM. */
      ownProcessGroup?: boolean;
    } = {},
  ): GatewayProcess {
    // Rigs run the daemon as root on purpose (ptys, tmpfs, FUSE); on a box where the package
    // created the service user, `run` would otherwise refuse, as it should for a technician.
    const asRoot = process.getuid?.() === 0 && opts.wrapper === undefined ? ['--allow-root'] : [];
    const launcher = opts.command ?? [process.execPath, ...DAEMON_NODE_FLAGS, CLI];
    const argv = [...launcher, 'run', '--config', configDir, ...asRoot, ...(opts.args ?? [])];
    const [cmd, ...args] = [...(opts.wrapper ?? []), ...argv] as [string, ...string[]];
    const child = spawn(cmd, args, {
      env: { ...process.env, NO_PRETTY_LOGS: '1', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: opts.ownProcessGroup === true,
    });
    return new GatewayProcess(child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  async waitForLog(predicate: (l: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.logs.find(predicate);
      if (hit) return hit;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`gateway exited (${this.child.exitCode ?? this.child.signalCode}) before the expected log line; stderr:\n${this.stderr.join('\n')}`);
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for a gateway log line; last lines:\n${this.logs.slice(-10).map((l) => JSON.stringify(l)).join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Resolves once the daemon says its devices are started. */
  ready(timeoutMs?: number): Promise<LogLine> {
    return this.waitForLog((l) => l.msg === 'gateway running', timeoutMs);
  }

  /** Resolves when the process exits by itself (e.g. refused to start). */
  waitExit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exited;
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }

  async stop(timeoutMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
