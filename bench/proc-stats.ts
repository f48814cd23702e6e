import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Reads a process's CPU, memory and I/O counters from /proc. Figures come from the kernel's own
 * accounting, so measuring a process costs that process nothing.
 */

export class ProcStatsError extends Error {
  readonly code = 'BENCH_PROC_UNREADABLE';
}

let clockTicks: number | null = null;

/** USER_HZ: utime/stime in /proc/<pid>/stat are in these units (almost always 100). */
export function ticksPerSecond(): number {
  if (clockTicks === null) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

function read(pid: number, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch (err) {
    throw new ProcStatsError(`cannot read /proc/${pid}/${file} (process gone?): ${(err as Error).message}`, { cause: err });
  }
}

/** utime + stime of the process (all threads), in milliseconds. */
export function cpuMs(pid: number): number {
  const stat = read(pid, 'stat');
  // The command name (field 2) may contain spaces and parentheses: fields count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / ticksPerSecond();
}

export interface MemorySample {
  rssBytes: number;
  /** Private memory (heap, native allocations): what the process really costs. */
  anonBytes: number;
  /** File-backed pages, mostly the node binary's own code: shared and reclaimable. */
  fileBytes: number;
  /** VmHWM: the peak resident set since the process started. */
  hwmBytes: number;
}

export function memory(pid: number): MemorySample {
  const status = read(pid, 'status');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rssBytes: kb('VmRSS'), anonBytes: kb('RssAnon'), fileBytes: kb('RssFile'), hwmBytes: kb('VmHWM') };
}

export interface IoSample {
  /** Bytes the process caused to be sent to the block layer (0 on some filesystems/containers). */
  writeBytes: number;
  /** Bytes passed to write-family syscalls, files and sockets alike. */
  wchar: number;
  syscw: number;
}

export function io(pid: number): IoSample {
  const text = read(pid, 'io');
  const field = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return { writeBytes: field('write_bytes'), wchar: field('wchar'), syscw: field('syscw') };
}

/** CPU use of a process over a window, as % of one core. */
export class CpuWindow {
  private readonly startCpu: number;
  private readonly startMs = performance.now();

  constructor(private readonly pid: number) {
    this.startCpu = cpuMs(pid);
  }

  percentOfCore(): number {
    const elapsed = performance.now() - this.startMs;
    return elapsed <= 0 ? 0 : ((cpuMs(this.pid) - this.startCpu) / elapsed) * 100;
  }
}

/** The pid of a process whose command line contains `needle` (e.g. a config path), or null. */
export function findPid(needle: string): number | null {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) return Number(entry);
    } catch {
      // Processes come and go while we look.
    }
  }
  return null;
}

/** Direct children of a process (Linux ≥ 3.5 exposes them per thread). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * The main thread's scheduler accounting (/proc/<pid>/task/<pid>/schedstat): nanoseconds on a CPU
 * and nanoseconds runnable but waiting for one. Over a window, wall time minus both is time the
 * thread was blocked (idle in epoll, or in a synchronous syscall such as fsync). Null where the
 * kernel does not provide schedstat.
 */
export function mainThreadSched(pid: number): { onCpuNs: number; waitNs: number } | null {
  try {
    const [onCpu, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    return Number.isFinite(onCpu) && Number.isFinite(wait) ? { onCpuNs: onCpu!, waitNs: wait! } : null;
  } catch {
    return null;
  }
}
