import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { CLI, type LogLine } from '../test-rigs/harness/gateway-process.js';
import { childPids } from './proc-stats.js';
import { DAEMON_NODE_FLAGS } from '../gateway/node-flags.js';

/**
 * The real daemon (`node dist/gateway/cli.js run`), optionally run under strace so that its
 * fsyncs and database writes can be counted syscall by syscall.
 *
 * strace runs with --seccomp-bpf: the kernel stops the daemon only for the traced calls
 * (fsync, fdatasync, pwrite64 — SQLite's writes), not for every syscall, so tracing barely
 * changes the CPU figure being measured alongside. (test-rigs/harness's GatewayProcess cannot
 * wrap the command, hence this small runner; it uses the harness's CLI path and log format.)
 */
export const STRACE = '/usr/bin/strace';

export interface TraceCounts {
  fsyncs: number;
  /** Bytes SQLite handed to pwrite64 (database + WAL). */
  pwriteBytes: number;
}

export class DaemonStartError extends Error {
  readonly code = 'BENCH_DAEMON_START_FAILED';
}

export function straceAvailable(): boolean {
  try {
    accessSync(STRACE, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export class TracedDaemon {
  readonly logs: LogLine[] = [];
  private readonly stderr: string[] = [];
  private readonly exited: Promise<unknown>;

  private constructor(
    private readonly child: ChildProcess,
    readonly traceFile: string | null,
  ) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        this.logs.push(JSON.parse(line) as LogLine);
      } catch {
        this.logs.push({ level: 30, msg: line });
      }
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      this.stderr.push(line);
      if (this.stderr.length > 200) this.stderr.shift();
    });
    this.exited = once(child, 'exit');
  }

  /**
   * `fsyncDelayMs` makes every fsync/fdatasync take that much longer (strace's syscall fault
   * injection, delay on exit): an SD card's fsync on this machine's disk. Needs `traceFile`.
   * `wrapper` runs first and execs the rest (e.g. bench/pi-class.ts joining a cgroup).
   */
  static start(configDir: string, opts: { traceFile: string | null; nodeArgs?: string[]; fsyncDelayMs?: number; wrapper?: string[] }): TracedDaemon {
    if (opts.fsyncDelayMs && !opts.traceFile) throw new DaemonStartError('an fsync delay needs strace (traceFile)');
    const inject = opts.fsyncDelayMs ? ['-e', `inject=fsync,fdatasync:delay_exit=${Math.round(opts.fsyncDelayMs * 1000)}`] : [];
    // Deployed flags first (systemd passes them in NODE_OPTIONS); --daemon-node-args may add or override.
    const node = [process.execPath, ...DAEMON_NODE_FLAGS, ...(opts.nodeArgs ?? []), CLI, 'run', '--config', configDir, ...(process.getuid?.() === 0 ? ['--allow-root'] : [])];
    const [cmd, ...args] = opts.traceFile
      ? [STRACE, '-f', '--seccomp-bpf', '-qq', '-ttt', '-s', '0', '-e', 'signal=none', '-e', 'trace=fsync,fdatasync,pwrite64', ...inject, '-o', opts.traceFile, ...node]
      : node;
    const wrapped = [...(opts.wrapper ?? []), cmd!, ...args];
    const child = spawn(wrapped[0]!, wrapped.slice(1), { env: { ...process.env, NO_PRETTY_LOGS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    return new TracedDaemon(child, opts.traceFile);
  }

  /** The node process itself (strace's child when traced). */
  get pid(): number {
    if (!this.traceFile) return this.child.pid!;
    const kids = childPids(this.child.pid!);
    if (kids.length !== 1) throw new DaemonStartError(`expected strace (pid ${this.child.pid}) to have one child, found ${kids.length}`);
    return kids[0]!;
  }

  async ready(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!this.logs.some((l) => l.msg === 'gateway running')) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new DaemonStartError(`the gateway exited before it was running; stderr:\n${this.stderr.slice(-20).join('\n')}`);
      }
      if (performance.now() > deadline) {
        throw new DaemonStartError(`the gateway was not running after ${timeoutMs} ms; last log lines:\n${this.logs.slice(-10).map((l) => JSON.stringify(l)).join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Log lines at warn or above: a benchmark of a daemon that is complaining is no benchmark. */
  problems(): LogLine[] {
    return this.logs.filter((l) => l.level >= 40);
  }

  /** SIGTERM the daemon (not strace, which exits with it); SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    let target: number;
    try {
      target = this.pid;
    } catch {
      target = this.child.pid!;
    }
    process.kill(target, 'SIGTERM');
    // Killing only strace would detach the daemon and leave it running: kill both.
    const timer = setTimeout(() => {
      for (const pid of new Set([target, this.child.pid!])) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }, timeoutMs);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** fsyncs and pwrite bytes with a timestamp inside [fromMs, toMs] (epoch ms). */
  countTrace(fromMs: number, toMs: number): TraceCounts | null {
    if (!this.traceFile) return null;
    return countTraceText(readFileSync(this.traceFile, 'utf8'), fromMs, toMs);
  }
}

/** Parses `strace -f -ttt` lines: `<pid> <epoch.us> call(args) = ret`, with unfinished/resumed halves. */
export function countTraceText(text: string, fromMs: number, toMs: number): TraceCounts {
  let fsyncs = 0;
  let pwriteBytes = 0;
  for (const line of text.split('\n')) {
    const m = /^\d+\s+(\d+\.\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const ms = Number(m[1]) * 1000;
    if (ms < fromMs || ms > toMs) continue;
    const call = m[2]!;
    if (/^f(data)?sync\(/.test(call)) fsyncs++;
    // A pwrite either completes on one line or resumes on a later one; its result is counted once.
    if (/^pwrite64\(.*\)\s+=\s+\d+/.test(call) || /^<\.\.\. pwrite64 resumed>.*=\s+\d+/.test(call)) {
      pwriteBytes += Number(/=\s+(\d+)\s*$/.exec(call)?.[1] ?? 0);
    }
  }
  return { fsyncs, pwriteBytes };
}
