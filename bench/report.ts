import type { BytesBenchResult } from './bytes.js';
import type { BenchResults } from './results.js';
import { INTERSECTION_GATEWAY_READINGS_PER_S } from './ingest.js';
import { WARM_S } from './intersection.js';
import { shapeTag } from './poll-path.js';
import { checkTargets, NODE_RED, NODE_RED_BYTES_QUOTED, NODE_RED_POLL_PATH, rtuTransactionMs, TARGETS } from './targets.js';

/** Human-readable report of one run: each figure next to the limit it is a fraction of. */


const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const pct = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(1)} %` : 'n/a');
const mb = (b: number): string => `${(b / 1024 / 1024).toFixed(1)} MB`;
const ratio = (a: number, b: number | undefined): string => (b === undefined || !(b > 0) ? 'n/a' : pct((a / b) * 100));

/**
 * Which component bounded a throughput figure, from the evidence we have: a saturated event loop
 * means the gateway's single thread; a broker near a full core means the broker; a rate close to
 * the raw publish limit means the MQTT path as a whole.
 */
export function boundBy(e: { loopUtilization: number; brokerCpuPercent: number | null; readingsPerS: number; rawPublishPerS?: number; process?: string }): string {
  const who = e.process ?? 'the gateway process';
  const loop = `event loop ${pct(e.loopUtilization * 100)} busy`;
  const broker = e.brokerCpuPercent === null ? 'broker CPU unknown' : `broker ${pct(e.brokerCpuPercent)} of a core`;
  if (e.loopUtilization >= 0.9) return `${who} (${loop}; ${broker})`;
  if (e.brokerCpuPercent !== null && e.brokerCpuPercent >= 90) return `the broker (${broker}; ${loop})`;
  if (e.rawPublishPerS !== undefined && e.readingsPerS >= 0.8 * e.rawPublishPerS) return `the MQTT publish path (>= 80 % of raw publish; ${loop}; ${broker})`;
  return `neither saturated: round trips / in-flight window (${loop}; ${broker})`;
}

export function formatReport(r: BenchResults): string {
  const out: string[] = [];
  const line = (s = ''): void => void out.push(s);
  const m = r.machine;
  line(`edge-gateway benchmark — ${r.date}${r.quick ? ' (quick)' : ''}`);
  line(`command: ${r.command}`);
  line(`machine: ${m.cpuModel}, ${m.cores} cores, ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB, ${m.kernel}, load ${m.loadAverage.toFixed(2)} at start`);
  line(`         Node ${m.node}, SQLite ${m.sqlite} (better-sqlite3 ${m.betterSqlite3}), mqtt.js ${m.mqtt}, ${m.mosquitto}`);
  line(`         data dir ${m.dataDir} (${m.dataDirFs}); broker ${r.broker.kind} ${r.broker.url}`);
  const s = r.endToEnd?.settings ?? r.drain?.settings;
  if (s) {
    line(
      `gateway settings (shipped defaults): commit every ${s.commitIntervalMs} ms or ${int(s.commitMaxReadings)} readings, ${s.rowMaxReadings} readings/row, ` +
        `batch <= ${int(s.batchMaxReadings)} readings / ${int(s.batchMaxBytes / 1024)} KiB, ${s.inflightWindow} in flight, durability ${s.durability}`,
    );
  }

  const L = r.limits;
  if (L) {
    line();
    line('PHYSICAL LIMITS (same libraries and table shape, none of the gateway code)');
    line(`  SQLite insert, row per run (${L.insertRunPerRow.readingsPerRow}/row, ${int(L.insertRunPerRow.readingsPerTransaction)}/tx)   ${int(L.insertRunPerRow.readingsPerS)} readings/s  (${int(L.insertRunPerRow.rowsPerS)} rows/s, ${L.insertRunPerRow.mbPerS.toFixed(0)} MB/s)`);
    line(`  SQLite insert, row per reading (${int(L.insertRowPerReading.readingsPerTransaction)}/tx)   ${int(L.insertRowPerReading.readingsPerS)} readings/s  (reference: the design the outbox avoids)`);
    line(`  SQLite insert, v2 poll records (125 values each, ${L.insertRecords.readingsPerRow}/row)   ${int(L.insertRecords.readingsPerS)} values/s  (${int(L.insertRecords.rowsPerS)} rows/s, ${L.insertRecords.mbPerS.toFixed(0)} MB/s)`);
    line(`  SQLite drain, oldest ${L.drain.rowsPerBatch} rows + delete per batch   ${int(L.drain.readingsPerS)} readings/s  (${int(L.drain.readings)} in ${L.drain.seconds.toFixed(2)} s)`);
    const p = L.publish;
    line(`  mqtt.js QoS 1 publish, ${int(p.payloadBytes / 1024)} KiB x ${p.inflightWindow} in flight   ${int(p.readingsPerS)} readings/s  (${int(p.messagesPerS)} msg/s, ${p.mbPerS.toFixed(0)} MB/s)`);
    line(`      bound: ${boundBy({ loopUtilization: p.clientLoopUtilization, brokerCpuPercent: p.brokerCpuPercent, readingsPerS: p.readingsPerS, process: 'the publishing mqtt.js client' })}`);
  }

  const e = r.endToEnd;
  if (e) {
    line();
    line(`DURABLE END-TO-END (emit -> commit -> QoS 1 publish -> PUBACK -> delete), ${e.seconds.toFixed(1)} s sustained`);
    line(`  ${int(e.readingsPerS)} readings/s   = ${ratio(e.readingsPerS, L?.insertRunPerRow.readingsPerS)} of raw insert, ${ratio(e.readingsPerS, L?.publish.readingsPerS)} of raw publish`);
    line(`  emitted ${int(e.emittedPerS)}/s; backlog at end ${int(e.backlogAtEnd)}; unacknowledged after drain ${e.unacknowledged}; process CPU ${pct(e.processCpuPercent)} of a core`);
    line(`  bound: ${boundBy({ loopUtilization: e.loopUtilization, brokerCpuPercent: e.brokerCpuPercent, readingsPerS: e.readingsPerS, rawPublishPerS: L?.publish.readingsPerS })}`);
  }

  const d = r.drain;
  if (d) {
    line();
    line(`BACKLOG DRAIN (${int(d.readings)} readings buffered with the broker down, ${mb(d.outboxBytes)} in the outbox)`);
    line(`  buffered offline at ${int(d.bufferedPerS)} readings/s`);
    line(`  drained in ${d.secondsFromBrokerUp.toFixed(2)} s from broker up (${d.secondsFromConnect.toFixed(2)} s from CONNACK) = ${int(d.readingsPerS)} readings/s`);
    line(`  = ${ratio(d.readingsPerS, L?.drain.readingsPerS)} of raw drain, ${ratio(d.readingsPerS, L?.publish.readingsPerS)} of raw publish; left over ${d.leftOver}`);
    line(`  bound: ${boundBy({ loopUtilization: d.loopUtilization, brokerCpuPercent: d.brokerCpuPercent, readingsPerS: d.readingsPerS, rawPublishPerS: L?.publish.readingsPerS })}`);
  }

  const x = r.intersection;
  if (x) {
    line();
    line(`INTERSECTION LOAD (real daemon process: ${x.devices} Modbus TCP devices x ${x.registersPerDevice} registers every ${x.intervalMs} ms, payload v${x.payloadVersion ?? 1}${x.commitIntervalMs === undefined ? '' : `, commit window ${x.commitIntervalMs} ms`}), ${x.seconds.toFixed(1)} s window${x.warmupS === undefined ? '' : ` after ${x.warmupS} s of warm-up${x.warmupS < WARM_S ? ' (cold: see docs/benchmarks.md)' : ''}`}`);
    line(`  delivered ${int(x.deliveredPerS)} readings/s (offered ${int((x.devices * x.registersPerDevice * 1000) / x.intervalMs)}/s); missing ${x.missing}, duplicates ${x.duplicates}`);
    line(`  CPU ${x.cpuPercent.toFixed(2)} % of one core (utime+stime from /proc/<pid>/stat)`);
    line(`  RSS max ${mb(x.rssMaxBytes)}, at end ${mb(x.rssEndBytes)} (private ${mb(x.rssAnonEndBytes)} + file-backed ${mb(x.rssFileEndBytes)}), VmHWM ${mb(x.hwmBytes)} (includes start-up)`);
    line(`  private memory (RssAnon) max in window ${mb(x.rssAnonMaxBytes)}`);
    line(`  latency poll -> subscriber: p50 ${x.latencyP50Ms.toFixed(1)} ms, p99 ${x.latencyP99Ms.toFixed(1)} ms, max ${x.latencyMaxMs.toFixed(1)} ms`);
    line(`  fsyncs ${x.fsyncsPerS === null ? 'not measured (--no-trace, or strace missing)' : `${x.fsyncsPerS.toFixed(2)}/s (strace --seccomp-bpf: fsync+fdatasync)`}`);
    line(
      `  bytes written/reading ${x.bytesWrittenPerReading.toFixed(0)} B (source: ${x.bytesSource}); ` +
        `/proc io write_bytes ${x.procWriteBytesPerReading.toFixed(0)} B, SQLite pwrite64 ${x.sqlitePwriteBytesPerReading === null ? 'n/a' : `${x.sqlitePwriteBytesPerReading.toFixed(0)} B`}`,
    );
    line(`  rig: broker ${x.brokerCpuPercent === null ? 'n/a' : pct(x.brokerCpuPercent)}, simulators + subscriber ${pct(x.rigCpuPercent)} of a core (neither near a bound)`);
    if (x.floorCpuPercent !== null && x.floorCpuPercent !== undefined) {
      line(`  I/O floor (bench/io-floor.ts: the same Modbus requests, one commit and one QoS 1 publish + delete per commit window, no gateway logic): CPU ${pct(x.floorCpuPercent)} of a core, RssAnon ${x.floorRssAnonBytes === null ? 'n/a' : mb(x.floorRssAnonBytes)}; the daemon is ${(x.cpuPercent / x.floorCpuPercent).toFixed(1)}x its floor in CPU${x.floorRssAnonBytes ? `, ${(x.rssAnonMaxBytes / x.floorRssAnonBytes).toFixed(1)}x in private memory` : ''}`);
    }
    const f = x.idleFloor;
    if (f) {
      const over = x.rssMaxBytes - f.rssBytes;
      line(`  memory floor (bench/idle-floor.ts: node, the daemon's flags and libraries, loaded and idle, this run): VmRSS ${mb(f.rssBytes)} (private ${mb(f.rssAnonBytes)} + file-backed ${mb(f.rssFileBytes)})`);
      line(`    daemon RSS max ${mb(x.rssMaxBytes)} = floor +${mb(over)} (private +${mb(x.rssAnonMaxBytes - f.rssAnonBytes)}); target floor + ${mb(TARGETS.intersectionRssOverIdleFloorBytes)} = ${mb(f.rssBytes + TARGETS.intersectionRssOverIdleFloorBytes)}: ${over <= TARGETS.intersectionRssOverIdleFloorBytes ? 'PASS' : 'MISS'}`);
    }
    if (x.daemonProblems.length > 0) line(`  daemon logged ${x.daemonProblems.length} warning(s)/error(s); first: ${x.daemonProblems[0]}`);
  }

  for (const p of r.pollPath ?? []) {
    line();
    line(`POLL PATH (real daemon, ${p.devices} Modbus TCP devices x ${p.registers} registers every ${p.intervalMs} ms, durable, payload v${p.payloadVersion}), ${p.seconds.toFixed(1)} s window`);
    line(`  offered ${int(p.offeredPerS)} values/s, committed ${int(p.committedPerS)}/s, delivered ${int(p.deliveredPerS)}/s = ${ratio(p.deliveredPerS, p.payloadVersion === 2 ? L?.insertRecords.readingsPerS : L?.insertRunPerRow.readingsPerS)} of raw insert (${p.payloadVersion === 2 ? 'v2 records' : 'v1 rows'}), ${ratio(p.deliveredPerS, L?.publish.readingsPerS)} of raw publish`);
    line(`  daemon CPU ${pct(p.cpuPercent)} of a core = ${p.coreUsPerValue.toFixed(2)} core-µs per delivered value (Node-RED: ${NODE_RED_POLL_PATH.coreUsPerValue}, not durable)`);
    line(`  latency poll -> subscriber: p50 ${p.latencyP50Ms.toFixed(0)} ms, p99 ${p.latencyP99Ms.toFixed(0)} ms, max ${p.latencyMaxMs.toFixed(0)} ms`);
    line(`  RSS max ${mb(p.rssMaxBytes)}, private (RssAnon) at end ${mb(p.rssAnonEndBytes)}; missing ${p.missing}, still stored at stop ${int(p.storedAtStop)}`);
    if (p.mainThread) {
      const t = p.mainThread;
      line(`  daemon main thread: on a CPU ${pct(t.onCpuPercent)}, runnable but waiting for a CPU ${pct(t.runQueuePercent)}, blocked/idle ${pct(t.blockedPercent)} of the window (schedstat)` +
        (p.simRunQueuePercent === null ? '' : `; simulators waiting for a CPU ${pct(p.simRunQueuePercent)}`));
    }
    line(`  rig: broker ${p.brokerCpuPercent === null ? 'n/a' : pct(p.brokerCpuPercent)}, simulators ${pct(p.simCpuPercent)}, subscriber ${pct(p.subscriberCpuPercent)} of a core`);
    if (p.profile) {
      line(`  profile (separate run under --cpu-prof; share of busy samples, main thread busy ${pct((p.profile.busySamples / Math.max(1, p.profile.totalSamples)) * 100)} of the run):`);
      for (const e of p.profile.top) line(`    ${pct(e.share * 100).padStart(7)}  ${e.frame}`);
    }
    if (p.daemonProblems.length > 0) line(`  daemon logged ${p.daemonProblems.length} warning(s)/error(s); first: ${p.daemonProblems[0]}`);
  }

  for (const p of r.piStorage ?? []) {
    line();
    line(`PI-CLASS STORAGE (the intersection load, +${p.fsyncDelayMs} ms on every fsync/fdatasync via strace inject, durability ${p.durability}), ${p.seconds.toFixed(1)} s window`);
    line(`  delivered ${int(p.deliveredPerS)} readings/s; missing ${p.missing}, duplicates ${p.duplicates}; CPU ${p.cpuPercent.toFixed(2)} % of one core`);
    line(`  fsyncs ${p.fsyncsPerS === null ? 'n/a' : `${p.fsyncsPerS.toFixed(2)}/s`}; latency p50 ${p.latencyP50Ms.toFixed(1)} ms, p99 ${p.latencyP99Ms.toFixed(1)} ms, max ${p.latencyMaxMs.toFixed(1)} ms`);
    line(`  backlog (health.outbox.pendingReadings every 2 s): ${p.backlogSeries.length > 0 ? p.backlogSeries.join(' ') : 'no sample'}`);
    if (p.daemonProblems.length > 0) line(`  daemon logged ${p.daemonProblems.length} warning(s)/error(s); first: ${p.daemonProblems[0]}`);
  }

  const p = r.piClass;
  if (p) {
    const q = p.result;
    line();
    line(
      `PI-CLASS INTERSECTION LOAD (cgroup v1: cpu.cfs_quota_us ${p.limits.cpuQuotaUs}/${p.limits.cpuPeriodUs} = ${pct((100 * p.limits.cpuQuotaUs) / p.limits.cpuPeriodUs)} of a core, ` +
        `memory.limit_in_bytes ${mb(p.limits.memoryLimitBytes)}), ${q.seconds.toFixed(1)} s window`,
    );
    line(`  delivered ${int(q.deliveredPerS)} readings/s (offered ${int((q.devices * q.registersPerDevice * 1000) / q.intervalMs)}/s); missing ${q.missing}, duplicates ${q.duplicates}`);
    line(`  CPU ${pct(p.cpuPercentOfLimit)} of the limited core (${q.cpuPercent.toFixed(2)} % of a full one); throttled in ${p.throttled.throttledPeriods} of ${p.throttled.periods} periods (${int(p.throttled.throttledMs)} ms)`);
    line(`  latency p50 ${q.latencyP50Ms.toFixed(1)} ms, p99 ${q.latencyP99Ms.toFixed(1)} ms, max ${q.latencyMaxMs.toFixed(1)} ms`);
    line(`  backlog ${int(q.backlogStart)} -> ${int(q.backlogEnd)} readings (${((q.backlogEnd - q.backlogStart) / q.seconds).toFixed(1)}/s growth)`);
    line(`  RSS max ${mb(q.rssMaxBytes)}, VmHWM ${mb(q.hwmBytes)}; cgroup memory max usage ${mb(p.memory.maxUsageBytes)} (page cache included), limit hit ${p.memory.failcnt} times`);
  }

  const rc = r.reconnect;
  if (rc) {
    line();
    line(`RECONNECT (real daemon, shipped defaults: maxDelay ${rc.maxDelayMs / 1000} s; mosquitto stopped, then listening again)`);
    const outS = rc.outages.map((o) => o.outageS);
    line(`  ${rc.outages.length} outages of ${Math.min(...outS)}-${Math.max(...outS)} s: reconnected p50 ${rc.p50S.toFixed(2)} s, p99 ${rc.p99S.toFixed(2)} s, max ${rc.maxS.toFixed(2)} s after the broker was back  (limit ${rc.limitS} s)`);
    line(`  each: ${rc.outages.map((o) => `${o.outageS}s->${o.reconnectS.toFixed(2)}`).join(' ')}`);
  }

  const c = r.commands;
  if (c) {
    line();
    line('COMMANDS (real daemon, mosquitto, simulators in this process; latency = publish -> the write request read by the simulator)');
    const lat = (s: { samples: number; p50Ms: number; p99Ms: number; maxMs: number; notExecuted: number }) =>
      `p50 ${s.p50Ms.toFixed(1)} ms, p99 ${s.p99Ms.toFixed(1)} ms, max ${s.maxMs.toFixed(1)} ms over ${s.samples}; not executed ${s.notExecuted}`;
    line(`  Modbus TCP coil, under the intersection load (8 x 20 every 100 ms): ${lat(c.tcp)}  (target p99 <= ${TARGETS.commandTcpP99Ms} ms)`);
    if ('p99Ms' in c.rtu) line(`  Modbus RTU coil, ${c.rtu.baudRate} baud over a socat pty: ${lat(c.rtu)}  (target p99 <= ${(rtuTransactionMs(c.rtu.baudRate) + TARGETS.commandRtuMarginMs).toFixed(1)} ms: one transaction ${rtuTransactionMs(c.rtu.baudRate).toFixed(1)} ms + ${TARGETS.commandRtuMarginMs})`);
    else line(`  Modbus RTU: ${c.rtu.skipped}`);
    const s = c.sustained;
    line(`  sustained: ${int(s.sent)} coil writes offered at ${s.offeredPerS}/s to ${s.points} points: ${int(s.executed)} executed in ${s.seconds.toFixed(1)} s = ${s.executedPerS.toFixed(0)}/s  (target >= ${TARGETS.commandsPerS}/s)${Object.keys(s.others).length > 0 ? `; others ${JSON.stringify(s.others)}` : ''}${s.inboundOverLimit ? `; dropped by the inbound guard (over its rate or 64 queued): ${s.inboundOverLimit}` : ''}`);
    const p = c.readPathCpu;
    line(`  intersection read path, daemon CPU over ${p.seconds} s: channel disabled ${pct(p.disabledPercent)}, enabled (idle) ${pct(p.enabledPercent)} of a core = ${p.ratio.toFixed(2)}x`);
    if (c.daemonProblems.length > 0) line(`  daemon warnings: ${c.daemonProblems.join('; ')}`);
  }

  if (r.bytes) formatBytes(r.bytes, line);

  const checks = checkTargets(r);
  if (checks.length > 0) {
    line();
    line('TARGETS');
    const w = Math.max(...checks.map((c) => c.name.length));
    for (const c of checks) line(`  ${c.pass ? 'PASS' : 'MISS'}  ${c.name.padEnd(w)}  ${c.measured.padStart(12)}  (target ${c.target})`);
  }

  if (x || e) {
    line();
    line(`CONTEXT: Node-RED + node-red-contrib-modbus at the intersection load (brief's figures, not re-measured): ${NODE_RED.cpuPercent} % CPU, ${mb(NODE_RED.rssBytes)}, ~${int(NODE_RED.readingsPerS)} values/s max`);
    if (x) {
      line(`  CPU ${(x.cpuPercent / NODE_RED.cpuPercent).toFixed(2)}x of Node-RED (aim <= 0.20x); memory ${(x.rssMaxBytes / NODE_RED.rssBytes).toFixed(2)}x (aim <= 0.50x)`);
    }
  }
  // Like for like: the whole poll path, socket to PUBACK, against Node-RED's whole poll path (the
  // durable end-to-end section starts from pre-built readings, so it is no comparison).
  for (const p of r.pollPath ?? []) {
    line(
      `CONTEXT: poll path ${shapeTag(p)}: ${p.coreUsPerValue.toFixed(2)} core-µs/value = ${(p.coreUsPerValue / NODE_RED_POLL_PATH.coreUsPerValue).toFixed(2)}x Node-RED's ` +
        `${NODE_RED_POLL_PATH.coreUsPerValue} (not durable; issue #14's side-by-side run, not re-measured; aim <= 0.32x, long term 0.1x)`,
    );
  }

  for (const g of r.ingest ?? []) {
    const perCore = (us: number) => (us > 0 ? 1e6 / us : NaN);
    const both = g.ingestCoreUsPerReading + g.postgresCoreUsPerReading;
    line();
    line(`REFERENCE INGEST (central/, one worker, ${g.connections} connections, payload v${g.payloadVersion}): ${int(g.readings)} readings in ${int(g.batches)} recorded batches (${mb(g.bytes)}) drained from the broker into PostgreSQL in ${g.seconds.toFixed(1)} s`);
    line(`  ${int(g.readingsPerS)} readings/s stored (target ${int(g.targetReadingsPerS)}/s = 50 intersection gateways: ${g.readingsPerS >= g.targetReadingsPerS ? 'met' : 'NOT met'}, ${ratio(g.readingsPerS, g.targetReadingsPerS)})`);
    line(`  CPU per reading: ingest ${g.ingestCoreUsPerReading.toFixed(2)} core-µs, PostgreSQL ${g.postgresCoreUsPerReading.toFixed(2)} core-µs, broker ${g.brokerCoreUsPerReading === null ? 'n/a' : `${g.brokerCoreUsPerReading.toFixed(2)} core-µs`}`);
    line(`  projection: one ingest core ${int(perCore(g.ingestCoreUsPerReading))}/s, one PostgreSQL core ${int(perCore(g.postgresCoreUsPerReading))}/s; ingest + PostgreSQL on one core ${int(perCore(both))}/s = ${(perCore(both) / INTERSECTION_GATEWAY_READINGS_PER_S).toFixed(0)} intersection gateways per core`);
  }

  if (r.failures.length > 0) {
    line();
    line('FAILED SECTIONS');
    for (const f of r.failures) line(`  ${f.section}: [${f.code}] ${f.message}`);
  }
  line();
  line(`total ${r.totalSeconds.toFixed(0)} s (docs/benchmarks.md explains each figure)`);
  return out.join('\n');
}

/** The bytes section: one row per config, each next to Node-RED measured in the same run (or, failing that, the issue's quoted figures, labelled so). */
function formatBytes(b: BytesBenchResult, line: (s?: string) => void): void {
  const first = b.rows[0]?.result;
  const nr = 'notMeasured' in b.nodeRed ? null : b.nodeRed;
  const notMeasured = 'notMeasured' in b.nodeRed ? b.nodeRed.notMeasured : null;
  const peer = nr ? { wireBytesPerValue: nr.wireBytesPerValue, cpuPercent: nr.cpuPercent, rssBytes: nr.rssMaxBytes } : NODE_RED_BYTES_QUOTED;
  const peerTag = nr ? 'Node-RED' : 'Node-RED quoted';
  const f = (n: number | undefined, d: number): string => (n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(d));
  const x = (a: number | undefined, p: number): string => (a === undefined || !(p > 0) ? '-' : `${(a / p).toFixed(2)}x`);
  line();
  line(
    `BYTES PER VALUE (issue #25; real daemon and mosquitto, ${first ? `${first.devices} Modbus TCP controllers x ${first.registersPerDevice} registers every ${first.intervalMs} ms` : 'the intersection load'}; ` +
      `default forward config from the schema: v${b.defaults.payloadVersion}, compression ${b.defaults.compression}), ${b.windowS} s windows after ${b.warmupS} s of warm-up`,
  );
  line('  per value polled; wire = MQTT payload bytes of telemetry + events; disk = the daemon\'s /proc io write_bytes; zstd-3 est. = the window\'s batches compressed one by one offline');
  const header = ['run', 'sent/polled', 'wire B/value', 'disk B/value', 'zstd-3 est.', 'CPU %', 'RSS MB', 'missing', `wire/${peerTag}`, `CPU/${peerTag}`, `RSS/${peerTag}`, 'trace check (lost/late/wrong/checked)'];
  const rows = b.rows.map(({ row, result: r }) => [
    row.name,
    f(r.sentFraction, 3),
    f(r.wireBytesPerValue, 2),
    f(r.diskBytesPerValue, 1),
    f(r.compression?.['zstd-3']?.wireBytesPerValue, 2),
    f(r.cpuPercent, 2),
    f(r.rssMaxBytes / 1048576, 1),
    String(r.missing),
    x(r.wireBytesPerValue, peer.wireBytesPerValue),
    x(r.cpuPercent, peer.cpuPercent),
    x(r.rssMaxBytes, peer.rssBytes),
    r.traceCheck ? `${r.traceCheck.lost}/${r.traceCheck.late}/${r.traceCheck.wrong}/${r.traceCheck.checked}` : '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const cells of [header, ...rows]) line(`  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`);
  if (nr) {
    line(
      `  Node-RED ${nr.versions['node-red']} + node-red-contrib-modbus ${nr.versions['node-red-contrib-modbus']}, every value changes, measured in this run (same simulators and broker, Modbus-Read -> mqtt out QoS 1, payload = the values array): ` +
        `${f(nr.sentFraction, 3)} sent/polled, ${f(nr.wireBytesPerValue, 2)} B/value on the wire, CPU ${f(nr.cpuPercent, 2)} %, RSS max ${f(nr.rssMaxBytes / 1048576, 1)} MB (private ${f(nr.rssAnonMaxBytes / 1048576, 1)} MB); no seq, no names, no timestamp, not durable`,
    );
  } else {
    line(`  Node-RED not measured: ${notMeasured}`);
    line(`  Node-RED figures QUOTED from issues #25 and #14 (not measured here): ${NODE_RED_BYTES_QUOTED.wireBytesPerValue} B/value on the wire, CPU ${NODE_RED_BYTES_QUOTED.cpuPercent} %, RSS ${(NODE_RED_BYTES_QUOTED.rssBytes / 1048576).toFixed(0)} MB`);
  }
  for (const { row, result: r } of b.rows) {
    if (r.traceCheck && r.traceCheck.examples.length > 0) line(`  trace check, ${row.name}: ${r.traceCheck.examples.slice(0, 3).join('; ')}`);
    if (r.daemonProblems.length > 0) line(`  ${row.name}: daemon logged ${r.daemonProblems.length} warning(s)/error(s); first: ${r.daemonProblems[0]}`);
  }
}
