import { readFileSync } from 'node:fs';

/**
 * Resident memory of a child process, from /proc/<pid>/status (VmRSS). Take the pid from the
 * spawn: Node 24 names its main thread MainThread, so pgrep by name finds nothing.
 */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Samples a process's RSS every `everyMs` and keeps the peak since the last reset(). */
export class PeakRss {
  private peakBytes = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    everyMs = 100,
  ) {
    this.timer = setInterval(() => {
      try {
        this.peakBytes = Math.max(this.peakBytes, rssBytes(pid));
      } catch {
        // The process is gone; the caller's liveness check reports that.
      }
    }, everyMs);
  }

  /** Start a new peak from the current RSS, which it returns. */
  reset(): number {
    this.peakBytes = rssBytes(this.pid);
    return this.peakBytes;
  }

  get peak(): number {
    return this.peakBytes;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
