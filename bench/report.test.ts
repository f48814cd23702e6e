import { describe, expect, it } from 'vitest';
import { boundBy, formatReport } from './report.js';
import type { BenchResults } from './results.js';
import { checkTargets } from './targets.js';

/** The formatter and target checks on fixed numbers: no measuring here, so no timing in `npm test`. */
const settings = { commitIntervalMs: 50, commitMaxReadings: 10_000, rowMaxReadings: 500, batchMaxReadings: 5000, batchMaxBytes: 524_288, inflightWindow: 8, batchMaxWaitMs: 0, durability: 'normal' as const };

function fixture(): BenchResults {
  return {
    date: '2026-01-02T03:04:05.000Z',
    command: 'npm run bench -- --quick',
    quick: true,
    machine: {
      cpuModel: 'Test CPU',
      cores: 4,
      memoryBytes: 4 * 2 ** 30,
      kernel: 'Linux 6.1 arm64',
      node: 'v20.20.2',
      sqlite: '3.53.2',
      betterSqlite3: '12.11.1',
      mqtt: '5.16.0',
      mosquitto: 'mosquitto version 2.0.11',
      loadAverage: 0.5,
      dataDir: '/tmp',
      dataDirFs: 'ext4',
    },
    broker: { kind: 'mosquitto', url: 'mqtt://127.0.0.1:1883' },
    limits: {
      insertRunPerRow: { readingsPerS: 3_000_000, rowsPerS: 6000, mbPerS: 330, readingsPerRow: 500, readingsPerTransaction: 10_000 },
      insertRowPerReading: { readingsPerS: 1_000_000, rowsPerS: 1_000_000, mbPerS: 110, readingsPerRow: 1, readingsPerTransaction: 10_000 },
      insertRecords: { readingsPerS: 20_000_000, rowsPerS: 40_000, mbPerS: 130, readingsPerRow: 500, readingsPerTransaction: 10_000 },
      drain: { readings: 1_000_000, seconds: 0.1, readingsPerS: 10_000_000, rowsPerBatch: 9 },
      publish: { readingsPerS: 20_000_000, messagesPerS: 4000, mbPerS: 2000, payloadBytes: 500_000, readingsPerMessage: 4500, inflightWindow: 8, brokerCpuPercent: 30, clientLoopUtilization: 0.95 },
    },
    endToEnd: { seconds: 15, readingsPerS: 1_200_000, emittedPerS: 1_200_500, backlogAtEnd: 20_000, unacknowledged: 0, loopUtilization: 1, processCpuPercent: 97, brokerCpuPercent: 10, settings },
    drain: { readings: 1_000_000, bufferedPerS: 1_500_000, secondsFromBrokerUp: 2.5, secondsFromConnect: 2.4, readingsPerS: 416_667, outboxBytes: 104e6, loopUtilization: 0.98, brokerCpuPercent: 4, leftOver: 0, settings },
    intersection: {
      devices: 8,
      registersPerDevice: 20,
      intervalMs: 100,
      seconds: 60,
      deliveredPerS: 1600,
      cpuPercent: 3.5,
      rssMaxBytes: 110 * 2 ** 20,
      rssSeriesMb: [100, 110],
      rssEndBytes: 90 * 2 ** 20,
      rssAnonEndBytes: 43 * 2 ** 20,
      rssAnonMaxBytes: 44 * 2 ** 20,
      rssFileEndBytes: 47 * 2 ** 20,
      hwmBytes: 115 * 2 ** 20,
      latencyP50Ms: 52,
      latencyP99Ms: 57,
      latencyMaxMs: 60,
      fsyncsPerS: 0.2,
      bytesWrittenPerReading: 259,
      bytesSource: 'proc-io-write_bytes',
      sqlitePwriteBytesPerReading: 259,
      procWriteBytesPerReading: 259,
      missing: 0,
      duplicates: 0,
      brokerCpuPercent: 0.1,
      rigCpuPercent: 1.7,
      daemonProblems: [],
      traced: true,
      durability: 'normal',
      payloadVersion: 1,
      floorCpuPercent: 1.75,
      floorRssAnonBytes: 22 * 1024 * 1024,
      fsyncDelayMs: 0,
      backlogSeries: [120, 80],
      backlogStart: 0,
      backlogEnd: 0,
    },
    failures: [],
    totalSeconds: 95,
  };
}

describe('bench report', () => {
  it('judges each target from the figures and prints them next to their limits', () => {
    const r = fixture();
    const checks = Object.fromEntries(checkTargets(r).map((c) => [c.name, c.pass]));
    expect(checks).toEqual({
      'end-to-end / raw insert': true, // 1.2M / 3M = 40 %
      'end-to-end: nothing unacknowledged': true,
      'drain 1M readings': true,
      'intersection CPU (one core)': false, // 3.5 % > 1.4 %
      'intersection RssAnon (max in window)': false, // 44 MB > 32 MB
      'intersection latency p99': true,
      'intersection fsyncs/s': true,
      'intersection bytes written/reading': true,
      'intersection: nothing lost': true,
    });
    const text = formatReport(r);
    expect(text).toContain('1,200,000 readings/s   = 40.0 % of raw insert, 6.0 % of raw publish');
    expect(text).toMatch(/PASS {2}end-to-end \/ raw insert +40\.0 %/);
    expect(text).toMatch(/MISS {2}intersection CPU \(one core\) +3\.50 % +\(target <= 1\.4 %\)/);
    expect(text).toMatch(/MISS {2}intersection RssAnon \(max in window\) +44\.0 MB +\(target <= 32\.0 MB\)/);
    expect(text).toContain('drained in 2.50 s from broker up (2.40 s from CONNACK) = 416,667 readings/s');
    expect(text).toContain('CPU 0.51x of Node-RED (aim <= 0.20x)');
    // The floor the daemon's own parts set, measured in the same run.
    expect(text).toContain('CPU 1.8 % of a core, RssAnon 22.0 MB; the daemon is 2.0x its floor in CPU, 2.0x in private memory');
  });

  it('judges the intersection RSS against the idle floor measured in the same run (issue #25), and only when it was measured', () => {
    const r = fixture();
    const x = r.intersection!;
    expect(checkTargets(r).some((c) => c.name === 'intersection RSS over the idle floor')).toBe(false);
    x.idleFloor = { rssBytes: 72 * 2 ** 20, rssAnonBytes: 22 * 2 ** 20, rssFileBytes: 50 * 2 ** 20, samples: 6 };
    x.rssMaxBytes = 82 * 2 ** 20;
    expect(checkTargets(r).find((c) => c.name === 'intersection RSS over the idle floor')).toMatchObject({ measured: '+10.0 MB', pass: true });
    x.rssMaxBytes = 82.5 * 2 ** 20;
    expect(checkTargets(r).find((c) => c.name === 'intersection RSS over the idle floor')).toMatchObject({ measured: '+10.5 MB', target: '<= +10.0 MB (floor 72.0 MB)', pass: false });
    const text = formatReport(r);
    expect(text).toContain('VmRSS 72.0 MB (private 22.0 MB + file-backed 50.0 MB)');
    expect(text).toContain('daemon RSS max 82.5 MB = floor +10.5 MB (private +22.0 MB); target floor + 10.0 MB = 82.0 MB: MISS');
  });

  it('judges the Pi-class storage runs: a flat backlog, p99 and fsyncs per mode', () => {
    const r = fixture();
    const base = r.intersection!;
    r.piStorage = [
      { ...base, durability: 'normal', fsyncDelayMs: 20, fsyncsPerS: 0.6, latencyP99Ms: 70, backlogSeries: [300, 250, 310] },
      // strict falling behind: the backlog grows by more than a second of readings.
      { ...base, durability: 'strict', fsyncDelayMs: 20, fsyncsPerS: 40, latencyP99Ms: 900, backlogSeries: [300, 2000, 9000] },
    ];
    const checks = Object.fromEntries(checkTargets(r).filter((c) => c.name.startsWith('Pi-class')).map((c) => [c.name, c.pass]));
    expect(checks).toEqual({
      'Pi-class storage (normal): backlog flat': true,
      'Pi-class storage (normal): latency p99': true,
      'Pi-class storage (normal): fsyncs/s': true,
      'Pi-class storage (strict): backlog flat': false,
      'Pi-class storage (strict): latency p99': false,
      'Pi-class storage (strict): fsyncs/s': false,
    });
    const text = formatReport(r);
    expect(text).toContain('PI-CLASS STORAGE (the intersection load, +20 ms on every fsync/fdatasync via strace inject, durability strict)');
    expect(text).toContain('backlog (health.outbox.pendingReadings every 2 s): 300 2000 9000');
  });

  it('scales a shorter drain to 1M readings and fails a drain that left readings behind', () => {
    const r = fixture();
    r.drain = { ...r.drain!, readings: 250_000, secondsFromBrokerUp: 3 };
    const scaled = checkTargets(r).find((c) => c.name.startsWith('drain'))!;
    expect(scaled).toMatchObject({ name: 'drain 1M readings (scaled from 250000)', measured: '12.00 s', pass: false });
    r.drain = { ...r.drain, readings: 1_000_000, secondsFromBrokerUp: 1, leftOver: 5 };
    expect(checkTargets(r).find((c) => c.name.startsWith('drain'))!.pass).toBe(false);
  });

  it('reports sections that did not run as absent and failed sections with their code', () => {
    const r = fixture();
    delete r.limits;
    delete r.intersection;
    r.failures.push({ section: 'intersection load', code: 'BENCH_DAEMON_START_FAILED', message: 'the gateway exited before it was running' });
    const names = checkTargets(r).map((c) => c.name);
    expect(names).not.toContain('end-to-end / raw insert'); // no limit to compare with
    expect(names.some((n) => n.startsWith('intersection'))).toBe(false);
    const text = formatReport(r);
    expect(text).toContain('= n/a of raw insert');
    expect(text).toContain('intersection load: [BENCH_DAEMON_START_FAILED] the gateway exited before it was running');
  });

  it('names the component that bounded a throughput figure', () => {
    expect(boundBy({ loopUtilization: 0.99, brokerCpuPercent: 10, readingsPerS: 1e6 })).toMatch(/^the gateway process/);
    expect(boundBy({ loopUtilization: 0.5, brokerCpuPercent: 97, readingsPerS: 1e6 })).toMatch(/^the broker/);
    expect(boundBy({ loopUtilization: 0.5, brokerCpuPercent: 20, readingsPerS: 9e5, rawPublishPerS: 1e6 })).toMatch(/^the MQTT publish path/);
    expect(boundBy({ loopUtilization: 0.5, brokerCpuPercent: null, readingsPerS: 1e5, rawPublishPerS: 1e6 })).toMatch(/^neither saturated/);
  });

  it('reports the poll path like for like with Node-RED and judges saturating and below-saturation shapes apart', () => {
    const r = fixture();
    const base = {
      seconds: 15, committedPerS: 700_000, deliveredPerS: 700_000, coreUsPerValue: 1.25, cpuPercent: 87.5, latencyP50Ms: 60, latencyP99Ms: 180, latencyMaxMs: 300,
      rssMaxBytes: 90e6, rssAnonEndBytes: 40e6, missing: 0, storedAtStop: 0, brokerCpuPercent: 5, simCpuPercent: 10, subscriberCpuPercent: 20, mainThread: null, simRunQueuePercent: null,
      profile: { busySamples: 900, totalSamples: 1000, top: [{ frame: '(garbage collector)', share: 0.2 }] }, daemonProblems: [],
    };
    r.pollPath = [
      { ...base, name: 'many devices', devices: 32, registers: 125, intervalMs: 10, saturating: true, offeredPerS: 400_000, payloadVersion: 1 as const },
      { ...base, name: 'below saturation', devices: 32, registers: 125, intervalMs: 100, saturating: false, offeredPerS: 40_000, latencyP99Ms: 90, payloadVersion: 1 as const },
      { ...base, name: 'many devices', devices: 96, registers: 125, intervalMs: 10, saturating: true, offeredPerS: 1_200_000, deliveredPerS: 1_100_000, coreUsPerValue: 0.7, payloadVersion: 2 as const },
    ];
    const checks = checkTargets(r).filter((c) => c.name.startsWith('poll path'));
    expect(checks.map((c) => [c.name, c.pass])).toEqual([
      ['poll path 32x125 v1 core-µs/value', false],
      ['poll path 32x125 v1 delivered values/s', false],
      ['poll path 32x125 v1 latency p99', true],
      ['poll path 32x125 v1: nothing lost', true],
      ['poll path 32x125/100ms v1 latency p99 (below saturation)', true],
      ['poll path 32x125/100ms v1: nothing lost', true],
      ['poll path 96x125 v2 core-µs/value', true],
      ['poll path 96x125 v2 delivered values/s', true],
      ['poll path 96x125 v2 latency p99', true],
      ['poll path 96x125 v2: nothing lost', true],
    ]);
    const text = formatReport(r);
    expect(text).toContain('daemon CPU 87.5 % of a core = 1.25 core-µs per delivered value');
    expect(text).toContain("1.25 core-µs/value = 0.50x Node-RED's 2.5");
    expect(text).toContain('20.0 %  (garbage collector)');
    // v2 is judged against the raw insert limit of v2-shaped rows, not v1's.
    expect(text).toContain('delivered 1,100,000/s = 5.5 % of raw insert (v2 records)');
    expect(text).not.toContain("non-durable ceiling");
  });
});

describe('bench report: the command channel', () => {
  const commands = {
    tcp: { samples: 150, p50Ms: 4, p99Ms: 40, maxMs: 70, notExecuted: 0 },
    rtu: { samples: 50, p50Ms: 12, p99Ms: 80, maxMs: 90, notExecuted: 0, baudRate: 38_400 },
    sustained: { sent: 1500, executed: 1466, others: { 'rejected (busy)': 34 }, seconds: 5.6, executedPerS: 262, offeredPerS: 300, points: 50, inboundOverLimit: 0 },
    readPathCpu: { seconds: 10, disabledPercent: 3.3, enabledPercent: 3.2, ratio: 0.97 },
    daemonProblems: [],
  };

  it('judges TCP p99 against 50 ms, RTU against one transaction + 50 ms, and the sustained rate against 200/s', () => {
    const checks = checkTargets({ ...fixture(), commands });
    const get = (prefix: string) => checks.find((c) => c.name.startsWith(prefix))!;
    expect(get('command -> Modbus TCP')).toMatchObject({ measured: '40.0 ms', pass: true });
    // 38400 baud: (8 + 8 + 7 characters of silence) x 11 bits = 6.6 ms, + 50.
    expect(get('command -> Modbus RTU')).toMatchObject({ measured: '80.0 ms', target: '<= 56.6 ms (1 transaction + 50)', pass: false });
    expect(get('sustained commands/s')).toMatchObject({ measured: '262', pass: true });
    const text = formatReport({ ...fixture(), commands });
    expect(text).toContain('1,466 executed in 5.6 s = 262/s  (target >= 200/s); others {"rejected (busy)":34}');
    expect(text).toContain('channel disabled 3.3 %, enabled (idle) 3.2 % of a core = 0.97x');
  });

  it('says when RTU was not measured, and a TCP command that was not executed misses the target', () => {
    const r = { ...fixture(), commands: { ...commands, tcp: { ...commands.tcp, notExecuted: 1 }, rtu: { skipped: 'RTU not measured: socat missing' } } };
    expect(checkTargets(r).find((c) => c.name.startsWith('command -> Modbus TCP'))?.pass).toBe(false);
    expect(checkTargets(r).some((c) => c.name.startsWith('command -> Modbus RTU'))).toBe(false);
    expect(formatReport(r)).toContain('Modbus RTU: RTU not measured: socat missing');
  });
});
