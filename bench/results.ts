import type { BytesBenchResult } from './bytes.js';
import type { CommandsBenchResult } from './commands.js';
import type { DrainResult } from './drain.js';
import type { EndToEndResult } from './end-to-end.js';
import type { IngestBenchResult } from './ingest.js';
import type { IntersectionResult } from './intersection.js';
import type { Limits } from './limits.js';
import type { MachineFacts } from './machine.js';
import type { PollPathResult } from './poll-path.js';
import type { PiClassLimits } from './pi-class.js';
import type { ReconnectResult } from './reconnect.js';

/** Everything one `npm run bench` measured; also the `--json` output. */
export interface BenchResults {
  date: string;
  command: string;
  quick: boolean;
  machine: MachineFacts;
  broker: { kind: string; url: string };
  limits?: Limits;
  endToEnd?: EndToEndResult;
  drain?: DrainResult;
  intersection?: IntersectionResult;
  /** One entry per shape (bench/poll-path.ts). */
  pollPath?: PollPathResult[];
  /** The intersection load with an SD card's fsync latency added, once per durability mode. */
  piStorage?: IntersectionResult[];
  /** The intersection load with the daemon held to a Pi-like CPU share and 1 GB (cgroup v1). */
  piClass?: {
    limits: PiClassLimits;
    result: IntersectionResult;
    /** The daemon's CPU as a share of what the quota allows (100 % = the limited core is full). */
    cpuPercentOfLimit: number;
    throttled: { periods: number; throttledPeriods: number; throttledMs: number };
    memory: { maxUsageBytes: number; failcnt: number };
  };
  /** Broker stopped and restarted: how long after it was back the daemon used it. */
  reconnect?: ReconnectResult;
  /** The reference ingest (central/) draining recorded batches into PostgreSQL, per payload version. */
  ingest?: IngestBenchResult[];
  /** The command channel (issue #23): write latency, sustained rate, read-path CPU with it on. */
  commands?: CommandsBenchResult;
  /** Issue #25: bytes per value on the wire and on disk, default config against v1, Node-RED measured in the same run. */
  bytes?: BytesBenchResult;
  /** A section that failed is reported here instead of aborting the others. */
  failures: { section: string; code: string; message: string }[];
  totalSeconds: number;
}
