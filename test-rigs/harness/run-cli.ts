import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

/**
 * Runs the built `edge-gateway` CLI (dist/) as a technician would, for the ops tests: captured
 * stdout/stderr and exit code, always bounded by a timeout that kills it.
 */
const ROOT = join(import.meta.dirname, '../..');
export const CLI = ROOT.endsWith('dist') ? join(ROOT, 'gateway/cli.js') : join(ROOT, 'dist/gateway/cli.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves once stdout contains a match, or rejects when the process exits or time runs out. */
  waitForStdout(pattern: RegExp, timeoutMs: number): Promise<void>;
  /** Ctrl-C, then the result; SIGKILL if it does not exit within `timeoutMs`. */
  interrupt(timeoutMs?: number): Promise<CliResult>;
  done: Promise<CliResult>;
}

export function startCli(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const killer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
  const done = once(child, 'close').then(([code, signal]) => {
    clearTimeout(killer);
    return { code: code as number | null, signal: signal as NodeJS.Signals | null, stdout, stderr };
  });
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    async waitForStdout(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(stdout)) {
        if (exited()) throw new Error(`CLI ${args.join(' ')} exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}; stdout:\n${stdout}\nstderr:\n${stderr}`);
        if (Date.now() > deadline) throw new Error(`CLI ${args.join(' ')}: no ${pattern} within ${timeoutMs} ms; stdout:\n${stdout.slice(-2000)}\nstderr:\n${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async interrupt(timeoutMs = 5000) {
      if (!exited()) child.kill('SIGINT');
      const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await done;
      } finally {
        clearTimeout(t);
      }
    },
    done,
  };
}

export function runCli(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  return startCli(args, opts).done;
}
