import type { BrokerFixture } from '../test-rigs/broker/broker.js';
import { startModbusTcpSimulator, type ModbusTcpSimulator } from '../test-rigs/modbus-sim/server.js';
import { counterDynamics, measureIntersection, type IntersectionResult } from './intersection.js';
import { measureNodeRed, type NodeRedNotMeasured, type NodeRedPeerResult } from './node-red-peer.js';

/**
 * Issue #25's bytes, the `bytes` section of `npm run bench`: bytes per value on the wire and on
 * disk, CPU and RSS of the real daemon at the intersection load (8 controllers x 20 registers
 * every 100 ms, mosquitto), for every register changing on every poll and for the realistic
 * traces (test-rigs/traces/), with and without report by exception; and Node-RED polling the same
 * simulators into the same broker in the same run (bench/node-red-peer.ts).
 *
 * "Per value" is per value the devices produced (polled), so a value report by exception holds
 * back costs nothing and the rows compare. The targets are judged on the rows with the gateway's
 * DEFAULT forward config, read from the config schema (bench/workload.ts), against the v1 row of
 * the same run.
 */

/**
 * `forward.batchMaxWait` docs/payload.md (report by exception) pairs with report blocks on a
 * metered link: a few changed values a second would otherwise each pay a message's envelope.
 */
export const REPORT_BATCH_MAX_WAIT_MS = 1000;

/** What a row is judged as: the v1 baseline, the default config with every value changing, the default config with the traces and report by exception. */
export type BytesRole = 'v1' | 'default' | 'default-report';

export interface ForwardShape {
  payloadVersion: 1 | 2;
  compression: 'none' | 'zstd';
}

export interface BytesRow extends ForwardShape {
  name: string;
  workload: 'counters' | 'trace';
  report: boolean;
  batchMaxWaitMs?: number;
  commitIntervalMs?: number;
  roles: BytesRole[];
}

export interface BytesRowResult {
  row: BytesRow;
  result: IntersectionResult;
}

export interface BytesBenchResult {
  /** The shipped forward config the `default` rows ran with. */
  defaults: ForwardShape;
  warmupS: number;
  windowS: number;
  rows: BytesRowResult[];
  /** Node-RED + node-red-contrib-modbus on the every-value-changing load, or why it was not measured. */
  nodeRed: NodeRedPeerResult | NodeRedNotMeasured;
}

const shape = (f: ForwardShape): string => `v${f.payloadVersion}${f.compression === 'none' ? '' : `, ${f.compression}`}`;

/**
 * The one list of rows. Quick: the three the targets judge (two when the default is v1 without
 * compression: then the v1 row is the default row). Full: the alternatives docs/benchmarks.md
 * weighs as well. A row whose config another row already has is not run twice: it takes the roles.
 */
export function bytesRows(defaults: ForwardShape, quick: boolean): BytesRow[] {
  const wait1s = { batchMaxWaitMs: 1000, commitIntervalMs: 1000 };
  const rows: Omit<BytesRow, 'name'>[] = [
    { workload: 'counters', report: false, payloadVersion: 1, compression: 'none', roles: ['v1'] },
    { workload: 'counters', report: false, ...defaults, roles: ['default'] },
    // Report by exception is configured, not a default: judged as docs/payload.md configures it
    // for a metered link (report blocks + batchMaxWait), and shown beside it with batches sent at once.
    { workload: 'trace', report: true, ...defaults, batchMaxWaitMs: REPORT_BATCH_MAX_WAIT_MS, roles: ['default-report'] },
    { workload: 'trace', report: true, ...defaults, roles: [] },
  ];
  if (!quick) {
    rows.push(
      { workload: 'counters', report: false, payloadVersion: 2, compression: 'none', roles: [] },
      { workload: 'counters', report: false, payloadVersion: 2, compression: 'zstd', roles: [] },
      { workload: 'trace', report: false, payloadVersion: 1, compression: 'none', roles: [] },
      { workload: 'trace', report: false, payloadVersion: 2, compression: 'none', roles: [] },
      { workload: 'trace', report: true, payloadVersion: 1, compression: 'none', roles: [] },
      { workload: 'trace', report: true, payloadVersion: 2, compression: 'none', roles: [] },
      { workload: 'trace', report: true, payloadVersion: 2, compression: 'zstd', roles: [] },
      // Few readings: batches and commits that wait 1 s carry more each (the envelope and the WAL pages per commit are fixed costs).
      { workload: 'trace', report: true, ...defaults, ...wait1s, roles: [] },
      { workload: 'trace', report: true, payloadVersion: 1, compression: 'zstd', ...wait1s, roles: [] },
      { workload: 'trace', report: true, payloadVersion: 2, compression: 'zstd', ...wait1s, roles: [] },
    );
  }
  const byKey = new Map<string, BytesRow>();
  for (const r of rows) {
    const key = JSON.stringify([r.workload, r.report, r.payloadVersion, r.compression, r.batchMaxWaitMs, r.commitIntervalMs]);
    const seen = byKey.get(key);
    if (seen) {
      seen.roles.push(...r.roles);
      continue;
    }
    byKey.set(key, { ...r, roles: [...r.roles], name: '' });
  }
  return [...byKey.values()].map((r) => ({ ...r, name: rowName(r, defaults) }));
}

function rowName(r: Omit<BytesRow, 'name'>, defaults: ForwardShape): string {
  const isDefault = r.payloadVersion === defaults.payloadVersion && r.compression === defaults.compression;
  return [
    r.workload === 'counters' ? 'every value changes' : r.report ? 'traces + report by exception' : 'traces',
    `${shape(r)}${isDefault ? ' (default)' : ''}`,
    ...(r.batchMaxWaitMs !== undefined ? [`batchMaxWait ${r.batchMaxWaitMs / 1000}s`] : []),
    ...(r.commitIntervalMs !== undefined ? [`commitInterval ${r.commitIntervalMs / 1000}s`] : []),
  ].join(', ');
}

export async function measureBytes(o: {
  broker: BrokerFixture;
  tmpRoot: string;
  defaults: ForwardShape;
  quick: boolean;
  warmupMs: number;
  durationMs: number;
  nodeArgs?: string[];
  progress: (msg: string) => void;
}): Promise<BytesBenchResult> {
  const rows: BytesRowResult[] = [];
  for (const row of bytesRows(o.defaults, o.quick)) {
    o.progress(`bytes: ${row.name}`);
    const result = await measureIntersection({
      broker: o.broker,
      tmpRoot: o.tmpRoot,
      warmupMs: o.warmupMs,
      durationMs: o.durationMs,
      trace: false,
      nodeArgs: o.nodeArgs,
      workload: row.workload,
      report: row.report,
      checkTrace: row.report,
      payloadVersion: row.payloadVersion,
      compression: row.compression,
      batchMaxWaitMs: row.batchMaxWaitMs,
      commitIntervalMs: row.commitIntervalMs,
    });
    rows.push({ row, result });
  }
  o.progress('bytes: Node-RED + node-red-contrib-modbus, every value changes');
  const nodeRed = await measureNodeRedPeer(o);
  return { defaults: o.defaults, warmupS: o.warmupMs / 1000, windowS: o.durationMs / 1000, rows, nodeRed };
}

/** Node-RED on the every-value-changing load, against simulators like the daemon's; a failure is reported, not thrown. */
async function measureNodeRedPeer(o: { broker: BrokerFixture; tmpRoot: string; warmupMs: number; durationMs: number; progress: (msg: string) => void }): Promise<NodeRedPeerResult | NodeRedNotMeasured> {
  const devices = 8;
  const registers = 20;
  const intervalMs = 100;
  const sims: ModbusTcpSimulator[] = [];
  try {
    for (let d = 0; d < devices; d++) sims.push(await startModbusTcpSimulator({ units: { 1: { dynamics: counterDynamics(d, registers) } }, stepMs: intervalMs }));
    return await measureNodeRed({ brokerUrl: o.broker.url, devices: sims, table: 'holding', registers, intervalMs, warmupMs: o.warmupMs, durationMs: o.durationMs, tmpRoot: o.tmpRoot, progress: o.progress });
  } catch (err) {
    const why = (err as Error).message;
    o.progress(`bytes: Node-RED not measured: ${why}`);
    return { notMeasured: why };
  } finally {
    await Promise.all(sims.map((s) => s.stop()));
  }
}
