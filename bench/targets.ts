import { REPORT_BATCH_MAX_WAIT_MS, type BytesBenchResult, type BytesRowResult } from './bytes.js';
import { shapeTag } from './poll-path.js';
import type { BenchResults } from './results.js';

/**
 * The targets `npm run bench` is judged against (issue "Proof"), and the brief's reference
 * measurement of Node-RED + node-red-contrib-modbus at the intersection load, which is quoted
 * for context and not re-measured here.
 */
export const TARGETS = {
  endToEndOfRawInsert: 0.3,
  drainReadings: 1_000_000,
  drainSeconds: 10,
  /** Issue #14: a fifth of Node-RED's CPU at this load (NODE_RED.cpuPercent / 5). */
  intersectionCpuPercent: 1.4,
  /** Issue #14: private memory (RssAnon). VmRSS is printed but not judged: ~45-55 MB of it is the
   * node binary's file-backed pages, shared with every node process and reclaimable. */
  intersectionRssAnonBytes: 32 * 1024 * 1024,
  /** Issue #25: the daemon's VmRSS (max in the window) at most this much above node with the daemon's
   * flags and libraries loaded and idle, measured in the same run (bench/idle-floor.ts). */
  intersectionRssOverIdleFloorBytes: 10 * 1024 * 1024,
  intersectionP99Ms: 100,
  intersectionFsyncsPerS: 20,
  intersectionBytesPerReading: 300,
  /** Issue #14: the whole poll path, daemon CPU per delivered value and delivered rate (durable). */
  pollPathCoreUsPerValue: 0.8,
  pollPathValuesPerS: 1_000_000,
  pollPathP99Ms: 250,
  /** Issue #21: a returning broker is used within 5 s (p99 over 20 outages of 5-60 s). */
  reconnectP99S: 5,
  /** Issue #23: command at the broker -> the device's write request, p99, Modbus TCP under the intersection load. */
  commandTcpP99Ms: 50,
  /** Issue #23: the same on Modbus RTU: one transaction plus 50 ms (the transaction at the measured baud rate). */
  commandRtuMarginMs: 50,
  /** Issue #23: sustained commands/s to Modbus TCP coils, journal durable. */
  commandsPerS: 200,
  /** Issue #25: every value changing, MQTT payload bytes per polled value at the default config. */
  bytesEveryValueWirePerValue: 8,
  /** Issue #25: the realistic traces with report by exception, wire bytes per polled value at the default config. */
  bytesReportWirePerValue: 1,
  /** Issue #25: SD-card bytes per value at the default config, as a share of v1's in the same run. */
  bytesDiskOfV1: 0.2,
  /** Issue #25: the default config's CPU, as a share of v1's in the same run (within it). */
  bytesCpuOfV1: 1,
} as const;

/** One Modbus RTU write-coil transaction (8-byte request, 8-byte echo, 11 bits a byte, 3.5 characters of silence each way) at `baud`, ms. */
export function rtuTransactionMs(baud: number): number {
  return ((8 + 8 + 2 * 3.5) * 11 * 1000) / baud;
}

/** Issue #14's side-by-side measurement of Node-RED 4.1.8 + node-red-contrib-modbus 5.23.3 on this
 * machine (8 devices x 125 registers every 1 ms, not durable); quoted, not re-measured here. */
export const NODE_RED_POLL_PATH = { coreUsPerValue: 2.5, valuesPerS: 373_000 } as const;

/** Issue #25's quoted figures for Node-RED at the intersection load (wire bytes per value from issue #25, CPU
 * from issue #14, RSS from issue #25 item 6): printed, labelled as quoted, only when the bench could not measure Node-RED. */
export const NODE_RED_BYTES_QUOTED = { wireBytesPerValue: 7.2, cpuPercent: 6.8, rssBytes: 175 * 1024 * 1024 } as const;

export const NODE_RED = { cpuPercent: 6.8, rssBytes: 130 * 1024 * 1024, readingsPerS: 300_000 } as const;

export interface TargetCheck {
  name: string;
  /** Measured value, formatted. */
  measured: string;
  target: string;
  pass: boolean;
}

const mb = (b: number): string => `${(b / 1024 / 1024).toFixed(1)} MB`;

/** Checks for every section that ran; a section that did not run yields no check. */
export function checkTargets(r: BenchResults): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const e2e = r.endToEnd;
  const raw = r.limits?.insertRunPerRow.readingsPerS;
  if (e2e && raw) {
    const ratio = e2e.readingsPerS / raw;
    checks.push({ name: 'end-to-end / raw insert', measured: `${(ratio * 100).toFixed(1)} %`, target: `>= ${TARGETS.endToEndOfRawInsert * 100} %`, pass: ratio >= TARGETS.endToEndOfRawInsert });
  }
  if (e2e) checks.push({ name: 'end-to-end: nothing unacknowledged', measured: String(e2e.unacknowledged), target: '0', pass: e2e.unacknowledged === 0 });
  const d = r.drain;
  if (d) {
    // A quick run may drain fewer readings: judge it by the time 1M would take at its rate.
    const seconds = d.readings === TARGETS.drainReadings ? d.secondsFromBrokerUp : (d.secondsFromBrokerUp * TARGETS.drainReadings) / d.readings;
    const label = d.readings === TARGETS.drainReadings ? 'drain 1M readings' : `drain 1M readings (scaled from ${d.readings})`;
    checks.push({ name: label, measured: `${seconds.toFixed(2)} s`, target: `<= ${TARGETS.drainSeconds} s`, pass: seconds <= TARGETS.drainSeconds && d.leftOver === 0 });
  }
  const rc = r.reconnect;
  if (rc) checks.push({ name: `reconnect after broker return, p99 of ${rc.outages.length}`, measured: `${rc.p99S.toFixed(2)} s`, target: `<= ${TARGETS.reconnectP99S} s`, pass: rc.p99S <= TARGETS.reconnectP99S });
  const x = r.intersection;
  if (x) {
    checks.push({ name: 'intersection CPU (one core)', measured: `${x.cpuPercent.toFixed(2)} %`, target: `<= ${TARGETS.intersectionCpuPercent} %`, pass: x.cpuPercent <= TARGETS.intersectionCpuPercent });
    checks.push({ name: 'intersection RssAnon (max in window)', measured: mb(x.rssAnonMaxBytes), target: `<= ${mb(TARGETS.intersectionRssAnonBytes)}`, pass: x.rssAnonMaxBytes <= TARGETS.intersectionRssAnonBytes });
    if (x.idleFloor) {
      const over = x.rssMaxBytes - x.idleFloor.rssBytes;
      checks.push({ name: 'intersection RSS over the idle floor', measured: `+${mb(over)}`, target: `<= +${mb(TARGETS.intersectionRssOverIdleFloorBytes)} (floor ${mb(x.idleFloor.rssBytes)})`, pass: over <= TARGETS.intersectionRssOverIdleFloorBytes });
    }
    checks.push({ name: 'intersection latency p99', measured: `${x.latencyP99Ms.toFixed(1)} ms`, target: `<= ${TARGETS.intersectionP99Ms} ms`, pass: x.latencyP99Ms <= TARGETS.intersectionP99Ms });
    checks.push(
      x.fsyncsPerS === null
        ? { name: 'intersection fsyncs/s', measured: 'not measured (--no-trace, or strace missing)', target: `<= ${TARGETS.intersectionFsyncsPerS}`, pass: false }
        : { name: 'intersection fsyncs/s', measured: x.fsyncsPerS.toFixed(2), target: `<= ${TARGETS.intersectionFsyncsPerS}`, pass: x.fsyncsPerS <= TARGETS.intersectionFsyncsPerS },
    );
    checks.push({ name: 'intersection bytes written/reading', measured: `${x.bytesWrittenPerReading.toFixed(0)} B`, target: `<= ${TARGETS.intersectionBytesPerReading} B`, pass: x.bytesWrittenPerReading <= TARGETS.intersectionBytesPerReading });
    checks.push({ name: 'intersection: nothing lost', measured: `${x.missing} missing`, target: '0 missing', pass: x.missing === 0 });
  }
  for (const p of r.pollPath ?? []) {
    const tag = `poll path ${shapeTag(p)}`;
    if (!p.saturating) {
      checks.push({ name: `${tag} latency p99 (below saturation)`, measured: `${p.latencyP99Ms.toFixed(0)} ms`, target: `<= ${TARGETS.pollPathP99Ms} ms`, pass: p.latencyP99Ms <= TARGETS.pollPathP99Ms });
      checks.push({ name: `${tag}: nothing lost`, measured: `${p.missing} missing`, target: '0 missing', pass: p.missing === 0 });
      continue;
    }
    checks.push({ name: `${tag} core-µs/value`, measured: p.coreUsPerValue.toFixed(2), target: `<= ${TARGETS.pollPathCoreUsPerValue}`, pass: p.coreUsPerValue <= TARGETS.pollPathCoreUsPerValue });
    checks.push({ name: `${tag} delivered values/s`, measured: Math.round(p.deliveredPerS).toLocaleString('en-US'), target: `>= ${TARGETS.pollPathValuesPerS.toLocaleString('en-US')}`, pass: p.deliveredPerS >= TARGETS.pollPathValuesPerS });
    checks.push({ name: `${tag} latency p99`, measured: `${p.latencyP99Ms.toFixed(0)} ms`, target: `<= ${TARGETS.pollPathP99Ms} ms`, pass: p.latencyP99Ms <= TARGETS.pollPathP99Ms });
    checks.push({ name: `${tag}: nothing lost`, measured: `${p.missing} missing`, target: '0 missing', pass: p.missing === 0 });
  }
  for (const p of r.piStorage ?? []) {
    const name = `Pi-class storage (${p.durability})`;
    const growth = backlogGrowth(p);
    checks.push({ name: `${name}: backlog flat`, measured: growth === null ? 'no sample' : `${growth >= 0 ? '+' : ''}${growth.toFixed(0)}`, target: `<= +${p.deliveredPerS.toFixed(0)} (1 s of readings)`, pass: growth !== null && growth <= p.deliveredPerS });
    checks.push({ name: `${name}: latency p99`, measured: `${p.latencyP99Ms.toFixed(1)} ms`, target: `<= ${TARGETS.intersectionP99Ms} ms`, pass: p.latencyP99Ms <= TARGETS.intersectionP99Ms });
    checks.push(
      p.fsyncsPerS === null
        ? { name: `${name}: fsyncs/s`, measured: 'not measured', target: `<= ${TARGETS.intersectionFsyncsPerS}`, pass: false }
        : { name: `${name}: fsyncs/s`, measured: p.fsyncsPerS.toFixed(2), target: `<= ${TARGETS.intersectionFsyncsPerS}`, pass: p.fsyncsPerS <= TARGETS.intersectionFsyncsPerS },
    );
  }
  const c = r.commands;
  if (c) {
    checks.push({ name: 'command -> Modbus TCP coil write p99 (intersection load)', measured: `${c.tcp.p99Ms.toFixed(1)} ms`, target: `<= ${TARGETS.commandTcpP99Ms} ms`, pass: c.tcp.p99Ms <= TARGETS.commandTcpP99Ms && c.tcp.notExecuted === 0 });
    if ('p99Ms' in c.rtu) {
      const limit = rtuTransactionMs(c.rtu.baudRate) + TARGETS.commandRtuMarginMs;
      checks.push({ name: `command -> Modbus RTU coil write p99 (${c.rtu.baudRate} baud)`, measured: `${c.rtu.p99Ms.toFixed(1)} ms`, target: `<= ${limit.toFixed(1)} ms (1 transaction + ${TARGETS.commandRtuMarginMs})`, pass: c.rtu.p99Ms <= limit && c.rtu.notExecuted === 0 });
    }
    checks.push({ name: 'sustained commands/s to Modbus TCP coils (durable journal)', measured: c.sustained.executedPerS.toFixed(0), target: `>= ${TARGETS.commandsPerS}`, pass: c.sustained.executedPerS >= TARGETS.commandsPerS });
  }
  if (r.bytes) checks.push(...bytesChecks(r.bytes));
  return checks;
}

/** The row of the bytes section that plays `role` (a row may play several when configs coincide). */
export function bytesRow(b: BytesBenchResult, role: 'v1' | 'default' | 'default-report'): BytesRowResult | undefined {
  return b.rows.find((x) => x.row.roles.includes(role));
}

/** Issue #25's bench targets, on the default-config rows against the v1 row of the same run. */
export function bytesChecks(b: BytesBenchResult): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const v1 = bytesRow(b, 'v1')?.result;
  const def = bytesRow(b, 'default')?.result;
  const rbe = bytesRow(b, 'default-report')?.result;
  const cfg = `v${b.defaults.payloadVersion}${b.defaults.compression === 'none' ? '' : ` + ${b.defaults.compression}`}`;
  if (def?.wireBytesPerValue !== undefined) {
    checks.push({ name: `bytes: every value changing, default (${cfg}), wire/value`, measured: `${def.wireBytesPerValue.toFixed(2)} B`, target: `<= ${TARGETS.bytesEveryValueWirePerValue} B, nothing lost`, pass: def.wireBytesPerValue <= TARGETS.bytesEveryValueWirePerValue && def.missing === 0 });
  }
  if (rbe?.wireBytesPerValue !== undefined) {
    checks.push({ name: `bytes: traces + report by exception, default (${cfg}) + batchMaxWait ${REPORT_BATCH_MAX_WAIT_MS / 1000}s, wire/value`, measured: `${rbe.wireBytesPerValue.toFixed(2)} B`, target: `<= ${TARGETS.bytesReportWirePerValue} B`, pass: rbe.wireBytesPerValue <= TARGETS.bytesReportWirePerValue });
    const t = rbe.traceCheck;
    checks.push(
      t === undefined
        ? { name: 'bytes: traces + report by exception, no change lost beyond the deadband', measured: 'not checked', target: '0 lost, 0 wrong, 0 missing', pass: false }
        : {
            name: 'bytes: traces + report by exception, no change lost beyond the deadband',
            measured: `${t.lost} lost, ${t.wrong} wrong of ${t.checked} (${t.late} late); ${rbe.missing} missing`,
            target: '0 lost, 0 wrong, 0 missing',
            pass: t.checked > 0 && t.lost === 0 && t.wrong === 0 && rbe.missing === 0,
          },
    );
  }
  if (v1?.diskBytesPerValue && def?.diskBytesPerValue !== undefined) {
    const share = def.diskBytesPerValue / v1.diskBytesPerValue;
    checks.push({ name: `bytes: SD-card bytes/value, default (${cfg}) / v1, every value changing`, measured: `${share.toFixed(2)}x (${def.diskBytesPerValue.toFixed(0)} / ${v1.diskBytesPerValue.toFixed(0)} B)`, target: `<= ${TARGETS.bytesDiskOfV1}x`, pass: share <= TARGETS.bytesDiskOfV1 });
  }
  if (v1 && def && v1.cpuPercent > 0) {
    const share = def.cpuPercent / v1.cpuPercent;
    // The default is v1: one row plays both, and the ratio is 1 by construction, not by measurement.
    const same = v1 === def;
    checks.push({ name: `bytes: CPU, default (${cfg}) / v1, every value changing`, measured: same ? 'default is v1 (one row)' : `${share.toFixed(2)}x (${def.cpuPercent.toFixed(2)} / ${v1.cpuPercent.toFixed(2)} %)`, target: `<= ${TARGETS.bytesCpuOfV1.toFixed(2)}x`, pass: share <= TARGETS.bytesCpuOfV1 });
  }
  return checks;
}

/** How much the daemon's backlog grew over the window (last health sample minus the first). */
export function backlogGrowth(p: { backlogSeries: number[] }): number | null {
  const first = p.backlogSeries[0];
  const last = p.backlogSeries.at(-1);
  return first === undefined || last === undefined ? null : last - first;
}
