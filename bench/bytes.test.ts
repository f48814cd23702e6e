import { describe, expect, it } from 'vitest';
import { bytesRows, type BytesBenchResult, type BytesRow } from './bytes.js';
import type { IntersectionResult } from './intersection.js';
import { nodeRedFlow, npmErrorSummary } from './node-red-peer.js';
import { formatReport } from './report.js';
import type { BenchResults } from './results.js';
import { bytesChecks } from './targets.js';

/** The bytes section's row list, targets and text on fixed numbers: no measuring here. */
function result(o: Partial<IntersectionResult>): IntersectionResult {
  return {
    devices: 8, registersPerDevice: 20, intervalMs: 100, seconds: 10, deliveredPerS: 1600, cpuPercent: 3, rssMaxBytes: 100 * 2 ** 20, rssSeriesMb: [],
    rssEndBytes: 0, rssAnonEndBytes: 0, rssAnonMaxBytes: 0, rssFileEndBytes: 0, hwmBytes: 0, latencyP50Ms: 0, latencyP99Ms: 0, latencyMaxMs: 0, fsyncsPerS: null,
    bytesWrittenPerReading: 0, bytesSource: 'proc-io-write_bytes', sqlitePwriteBytesPerReading: null, procWriteBytesPerReading: 0, missing: 0, duplicates: 0,
    brokerCpuPercent: null, rigCpuPercent: 0, daemonProblems: [], traced: false, durability: 'normal', payloadVersion: 1, floorCpuPercent: null, floorRssAnonBytes: null,
    fsyncDelayMs: 0, backlogSeries: [], backlogStart: 0, backlogEnd: 0, sentFraction: 1,
    ...o,
  };
}

const v2zstd = { payloadVersion: 2, compression: 'zstd' } as const;
const v1none = { payloadVersion: 1, compression: 'none' } as const;
const role = (rows: BytesRow[], r: string) => rows.filter((x) => x.roles.includes(r as BytesRow['roles'][number]));

function section(rows: BytesRow[], figures: Record<string, Partial<IntersectionResult>>, nodeRed: BytesBenchResult['nodeRed']): BytesBenchResult {
  return { defaults: v2zstd, warmupS: 2, windowS: 10, rows: rows.map((row) => ({ row, result: result(figures[row.roles[0] ?? ''] ?? {}) })), nodeRed };
}

describe('bytes rows', () => {
  it('quick: v1, the default and the default with report by exception; the default taken as given, not assumed', () => {
    const rows = bytesRows(v2zstd, true);
    expect(rows.map((r) => r.name)).toEqual([
      'every value changes, v1',
      'every value changes, v2, zstd (default)',
      'traces + report by exception, v2, zstd (default), batchMaxWait 1s',
      'traces + report by exception, v2, zstd (default)',
    ]);
    // Report by exception is judged as docs/payload.md configures it for a metered link.
    expect(role(rows, 'default-report')[0]).toMatchObject({ workload: 'trace', report: true, payloadVersion: 2, compression: 'zstd', batchMaxWaitMs: 1000 });
    expect(role(rows, 'default')[0]).toMatchObject({ workload: 'counters', report: false, payloadVersion: 2, compression: 'zstd' });
  });

  it('runs a config once: with the default at v1 the v1 row plays the default too', () => {
    const rows = bytesRows(v1none, true);
    expect(rows).toHaveLength(3);
    expect(rows[0]!.roles).toEqual(['v1', 'default']);
    expect(rows[0]!.name).toBe('every value changes, v1 (default)');
  });

  it('full: every config once, each judged role exactly once', () => {
    for (const d of [v1none, v2zstd]) {
      const rows = bytesRows(d, false);
      const keys = rows.map((r) => JSON.stringify([r.workload, r.report, r.payloadVersion, r.compression, r.batchMaxWaitMs, r.commitIntervalMs]));
      expect(new Set(keys).size).toBe(rows.length);
      for (const r of ['v1', 'default', 'default-report']) expect(role(rows, r)).toHaveLength(1);
      expect(rows.length).toBeGreaterThan(6);
    }
  });
});

describe('bytes targets', () => {
  const nodeRed = { versions: { 'node-red': '4.1.8', 'node-red-contrib-modbus': '5.23.3' }, seconds: 10, polledValues: 16_000, sentFraction: 1, wireBytesPerValue: 5, cpuPercent: 8, rssMaxBytes: 175 * 2 ** 20, rssAnonMaxBytes: 120 * 2 ** 20 } as const;
  const good = {
    v1: { wireBytesPerValue: 115, diskBytesPerValue: 300, cpuPercent: 3 },
    default: { wireBytesPerValue: 4, diskBytesPerValue: 50, cpuPercent: 2.9 },
    'default-report': { wireBytesPerValue: 0.5, diskBytesPerValue: 20, traceCheck: { checked: 1000, lost: 0, late: 0, wrong: 0, examples: [] } },
  };

  it('passes the default config within the issue #25 limits against v1 of the same run', () => {
    const checks = bytesChecks(section(bytesRows(v2zstd, true), good, nodeRed));
    expect(checks.map((c) => [c.pass, c.measured])).toEqual([
      [true, '4.00 B'],
      [true, '0.50 B'],
      [true, '0 lost, 0 wrong of 1000 (0 late); 0 missing'],
      [true, '0.17x (50 / 300 B)'],
      [true, '0.97x (2.90 / 3.00 %)'],
    ]);
  });

  it('misses on bytes over the limits, a change lost, a seq missing, disk over a fifth of v1 and CPU over v1', () => {
    const bad = {
      v1: good.v1,
      default: { wireBytesPerValue: 8.5, diskBytesPerValue: 61, cpuPercent: 3.1 },
      'default-report': { ...good['default-report'], wireBytesPerValue: 1.2, missing: 1, traceCheck: { checked: 1000, lost: 2, late: 0, wrong: 0, examples: ['x'] } },
    };
    const checks = bytesChecks(section(bytesRows(v2zstd, true), bad, nodeRed));
    expect(checks.map((c) => c.pass)).toEqual([false, false, false, false, false]);
    // A check that judged nothing is no pass either.
    const none = bytesChecks(section(bytesRows(v2zstd, true), { ...good, 'default-report': { ...good['default-report'], traceCheck: { checked: 0, lost: 0, late: 0, wrong: 0, examples: [] } } }, nodeRed));
    expect(none[2]!.pass).toBe(false);
  });

  it('prints each row as ratios of Node-RED measured in the run, or says plainly it was not and labels the quoted figures', () => {
    const machine = { cpuModel: 'Test CPU', cores: 2, memoryBytes: 2 ** 30, kernel: 'Linux', node: 'v24', sqlite: '3', betterSqlite3: '13', mqtt: '5', mosquitto: 'mosquitto 2', loadAverage: 1, dataDir: '/tmp', dataDirFs: 'ext4' };
    const base: BenchResults = { date: 'd', command: 'c', quick: true, machine, broker: { kind: 'mosquitto', url: 'u' }, failures: [], totalSeconds: 1 };
    const measured = formatReport({ ...base, bytes: section(bytesRows(v2zstd, true), good, nodeRed) }).split('\n');
    expect(measured.find((l) => l.includes('every value changes, v2, zstd (default)'))).toMatch(/4\.00 .* 0\.80x .* 0\.36x .* 0\.57x/);
    expect(measured.some((l) => l.includes('measured in this run') && l.includes('5.00 B/value'))).toBe(true);
    const text = formatReport({ ...base, bytes: section(bytesRows(v2zstd, true), good, { notMeasured: 'npm install failed: ECONNREFUSED' }) });
    expect(text).toContain('Node-RED not measured: npm install failed: ECONNREFUSED');
    expect(text).toContain('QUOTED');
    expect(text).toContain('wire/Node-RED quoted');
  });
});

describe('Node-RED peer', () => {
  it('writes one Modbus-Read per controller wired to a QoS 1 mqtt out on one broker', () => {
    const flow = nodeRedFlow({ devices: [{ host: '127.0.0.1', port: 5020 }, { host: '127.0.0.1', port: 5021 }], table: 'holding', registers: 20, intervalMs: 100, broker: { host: '127.0.0.1', port: 1883 }, topic: 't' });
    const reads = flow.filter((n) => n.type === 'modbus-read');
    expect(reads.map((n) => [n.dataType, n.quantity, n.rate, n.rateUnit, n.adr])).toEqual([['HoldingRegister', '20', '100', 'ms', '0'], ['HoldingRegister', '20', '100', 'ms', '0']]);
    for (const r of reads) {
      const out = flow.find((n) => n.id === (r.wires as string[][])[0]![0]);
      expect(out).toMatchObject({ type: 'mqtt out', qos: '1', broker: 'bench-broker' });
      expect(flow.find((n) => n.id === r.server)).toMatchObject({ type: 'modbus-client', clienttype: 'tcp', tcpHost: '127.0.0.1' });
    }
    expect(flow.filter((n) => n.type === 'mqtt-broker')).toHaveLength(1);
  });

  it("keeps npm's error lines, not its stack", () => {
    const out = 'npm error code ECONNREFUSED\nnpm error syscall connect\nnpm error FetchError: request to http://127.0.0.1:9/node-red failed\nnpm error     at ClientRequest.<anonymous> (x.js:1:1)\nnpm error\nnpm error A complete log of this run can be found in: /x.log\n';
    expect(npmErrorSummary(out)).toBe('npm error code ECONNREFUSED | npm error syscall connect | npm error FetchError: request to http://127.0.0.1:9/node-red failed | npm error A complete log of this run can be found in: /x.log');
  });
});
