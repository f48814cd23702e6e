import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A Raspberry-Pi-sized box for the daemon on this machine: a cgroup v1 pair holding it to a share
 * of one core (cpu.cfs_quota_us of cpu.cfs_period_us) and 1 GB (memory.limit_in_bytes).
 *
 * What a quota imitates: the CPU time the daemon gets per 100 ms, so work that fits in a slow
 * core's budget here fits there, and a backlog grows here when it would there for lack of CPU.
 * What it does not: a quota runs the daemon at this machine's full clock in bursts and then stalls
 * it until the next period (up to 75 ms at 25 %), so latency comes in steps a slower core would
 * spread evenly; the Pi's smaller caches, slower memory and SD card, and its Cortex-A JIT code,
 * are not imitated at all. Figures are a lower bound for the Pi, not a prediction.
 */
export const CGROUP_V1 = { cpu: '/sys/fs/cgroup/cpu', memory: '/sys/fs/cgroup/memory' };

export interface PiClassLimits {
  cpuQuotaUs: number;
  cpuPeriodUs: number;
  memoryLimitBytes: number;
}

export const PI_CLASS: PiClassLimits = { cpuQuotaUs: 25_000, cpuPeriodUs: 100_000, memoryLimitBytes: 1024 ** 3 };

export class PiClassUnavailable extends Error {
  readonly code = 'BENCH_CGROUP_V1_UNAVAILABLE';
}

export interface PiCgroup {
  readonly limits: PiClassLimits;
  /** Command prefix that moves the process into both cgroups and then execs the rest. */
  readonly wrapper: string[];
  /** Periods in which the quota ran out, and the time spent throttled. */
  throttled(): { periods: number; throttledPeriods: number; throttledMs: number };
  /** memory.max_usage_in_bytes (page cache included) and how often the limit was hit. */
  memory(): { maxUsageBytes: number; failcnt: number };
  dispose(): void;
}

export function createPiCgroup(name: string, limits: PiClassLimits = PI_CLASS): PiCgroup {
  for (const root of Object.values(CGROUP_V1)) {
    if (!existsSync(join(root, 'cgroup.procs'))) throw new PiClassUnavailable(`no cgroup v1 controller at ${root} (the Pi-class run needs cgroup v1 cpu and memory, and root)`);
  }
  const cpu = join(CGROUP_V1.cpu, name);
  const mem = join(CGROUP_V1.memory, name);
  mkdirSync(cpu, { recursive: true });
  mkdirSync(mem, { recursive: true });
  writeFileSync(join(cpu, 'cpu.cfs_period_us'), String(limits.cpuPeriodUs));
  writeFileSync(join(cpu, 'cpu.cfs_quota_us'), String(limits.cpuQuotaUs));
  writeFileSync(join(mem, 'memory.limit_in_bytes'), String(limits.memoryLimitBytes));
  const stat = (file: string): Record<string, number> =>
    Object.fromEntries(readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split(' ')).map(([k, v]) => [k!, Number(v)]));
  return {
    limits,
    wrapper: ['sh', '-c', `echo $$ > ${cpu}/cgroup.procs && echo $$ > ${mem}/cgroup.procs && exec "$@"`, 'pi-class'],
    throttled() {
      const s = stat(join(cpu, 'cpu.stat'));
      return { periods: s.nr_periods ?? 0, throttledPeriods: s.nr_throttled ?? 0, throttledMs: (s.throttled_time ?? 0) / 1e6 };
    },
    memory() {
      return {
        maxUsageBytes: Number(readFileSync(join(mem, 'memory.max_usage_in_bytes'), 'utf8')),
        failcnt: Number(readFileSync(join(mem, 'memory.failcnt'), 'utf8')),
      };
    },
    dispose() {
      // rmdir fails while a process is still inside; the daemon has stopped by now.
      for (const dir of [cpu, mem]) {
        try {
          rmdirSync(dir);
        } catch {
          /* left for the next run's mkdir; harmless */
        }
      }
    },
  };
}
