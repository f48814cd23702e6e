import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { committedUpTo } from '../../gateway/outbox/inspect.js';
import { REPORT_STATE_FILE } from '../../gateway/report/state-file.js';
import { startBroker, type BrokerFixture } from '../broker/broker.js';
import { writeConfigDir, type ConfigDir } from '../harness/config-dir.js';
import { GatewayProcess } from '../harness/gateway-process.js';
import { startModbusTcpSimulator, type ModbusTcpSimulator } from '../modbus-sim/server.js';
import { startSubscriber, type ReceivedReading, type Subscriber } from '../subscriber/subscriber.js';
import { intersectionTrace, POLL_MS, traceSource } from '../traces/intersection.js';

/**
 * Issue #25 "Done when": a realistic controller trace, replayed by the Modbus TCP simulator,
 * goes through the real daemon (report by exception, payload v2) and mosquitto, and the
 * subscriber rebuilds every point at every poll within its deadband, across a clean restart and
 * a crash (SIGKILL).
 * The trace's step number sits in one more register sent on every poll (`onChange: false`), so
 * each poll's truth is known at the subscriber.
 */
const trace = intersectionTrace(25, 36_000);
const STEP_POINT = 'trace.step';
const HEARTBEAT_POINT = 'signal.phase';

let broker: BrokerFixture;
let sim: ModbusTcpSimulator;
let config: ConfigDir;
let sub: Subscriber;

beforeAll(async () => {
  broker = await startBroker();
  sim = await startModbusTcpSimulator({ units: { 1: { source: traceSource(trace) } }, stepMs: POLL_MS });
  const registers = [
    ...trace.points.map((p) => ({ name: p.name, table: 'input', address: p.address, type: p.type, ...(p.scale !== undefined ? { scale: p.scale } : {}), ...(p.unit ? { unit: p.unit } : {}) })),
    { name: STEP_POINT, table: 'input', address: trace.points.length, type: 'uint16' },
  ];
  const overrides: Record<string, Record<string, unknown>> = { [STEP_POINT]: { onChange: false }, [HEARTBEAT_POINT]: { heartbeat: '2s' } };
  for (const p of trace.points) if (p.deadband > 0) overrides[p.name] = { deadband: p.deadband };
  config = writeConfigDir({
    brokerUrls: [broker.url],
    // v2 and zstd: the compact path end to end, inflated by the reference subscriber.
    gateway: { forward: { payloadVersion: 2, compression: 'zstd' } },
    devices: { ctl: { type: 'modbus-tcp', host: sim.host, port: sim.port, unitId: 1, intervalMs: POLL_MS, registers, report: { deadband: 0, heartbeat: '10m', points: overrides } } },
  });
  sub = await startSubscriber({ url: broker.url, prefix: config.topicPrefix, gatewayId: config.gatewayId, clientId: 'report-by-exception', keepReadings: true });
});

afterAll(async () => {
  await sub?.stop();
  await sim?.stop();
  await broker?.dispose();
  if (config) rmSync(config.dir, { recursive: true, force: true });
});

const ofDevice = () => sub.readings.filter((r) => r.device === 'ctl');
const polls = () => ofDevice().filter((r) => r.point === STEP_POINT);

async function runFor(pollCount: number, end: 'stop' | 'kill' = 'stop'): Promise<void> {
  const gw = GatewayProcess.start(config.dir);
  await gw.ready();
  const before = polls().length;
  await sub.waitFor(() => polls().length >= before + pollCount, 30_000);
  if (end === 'kill') expect((await gw.kill('SIGKILL')).signal).toBe('SIGKILL');
  else expect((await gw.stop()).code).toBe(0);
}

describe('report by exception, end to end', () => {
  it('rebuilds every point at every poll within its deadband across a clean restart and a crash, sending a fraction of the values', async () => {
    await runFor(50);
    expect(existsSync(join(config.dir, REPORT_STATE_FILE))).toBe(true);
    await runFor(50, 'kill');
    // Consumed at start, not written by a crash: the next start sends every point once.
    expect(existsSync(join(config.dir, REPORT_STATE_FILE))).toBe(false);
    await runFor(50);
    const last = committedUpTo(config.outboxPath);
    // Seqs skip a block after the crash (outbox.skipped): wait for the last one and no gap.
    await sub.waitFor((s) => {
      const sum = s.tracker.summary();
      return sum.highest !== null && sum.highest >= last && sum.missingCount === 0;
    }, 20_000);

    // A crash may deliver a batch twice: one reading per seq.
    const readings = [...new Map(ofDevice().map((r) => [r.seq, r])).values()].sort((a, b) => a.seq - b.seq);
    const pollList = readings.filter((r) => r.point === STEP_POINT);
    const byPoint = new Map<string, ReceivedReading[]>();
    for (const r of readings) byPoint.set(r.point, [...(byPoint.get(r.point) ?? []), r]);

    // Sample and hold, as docs/payload.md says: at each poll a point holds the last value sent at or before it.
    const misses: string[] = [];
    trace.points.forEach((p, i) => {
      const sent = byPoint.get(p.name) ?? [];
      let k = -1;
      for (const poll of pollList) {
        while (k + 1 < sent.length && sent[k + 1]!.ts <= poll.ts) k++;
        const truth = trace.value(Number(poll.value), i);
        const held = k >= 0 ? Number(sent[k]!.value) : Number.NaN;
        if (!(Math.abs(held - truth) <= p.deadband + 1e-6)) misses.push(`${p.name} at step ${String(poll.value)}: held ${held}, trace ${truth}`);
      }
    });
    expect(misses.slice(0, 5)).toEqual([]);

    // The clean restart repeated nothing (without the state file a point that never changed
    // would be sent again there); the crash costs exactly one more reading per point.
    const steps = pollList.map((r) => Number(r.value));
    const modeIndex = trace.points.findIndex((p) => p.name === 'controller.mode');
    const modeChanges = steps.filter((s, j) => j > 0 && trace.value(s, modeIndex) !== trace.value(steps[j - 1]!, modeIndex)).length;
    expect(byPoint.get('controller.mode')?.length).toBe(1 + modeChanges + 1);

    // Heartbeats: marked, and the 2 s one came while the phase held.
    const hb = (byPoint.get(HEARTBEAT_POINT) ?? []).filter((r) => r.attrs?.report === 'heartbeat');
    expect(hb.length).toBeGreaterThan(0);
    expect(readings.filter((r) => r.point !== HEARTBEAT_POINT && r.attrs?.report === 'heartbeat')).toEqual([]);

    // Health says what the filter did (counted since the last start).
    const counted = (sub.lastHealth as { report?: { passed: number; held: number; heartbeats: number } } | null)?.report;
    expect(counted?.held).toBeGreaterThan(counted?.passed ?? Infinity);

    // Bytes that cost money: far fewer values than polled.
    const values = readings.length - pollList.length;
    expect(values).toBeLessThan(0.25 * pollList.length * trace.points.length);
  }, 90_000);
});
