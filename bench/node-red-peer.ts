import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { CpuWindow, memory } from './proc-stats.js';

/**
 * The peer issue #25 compares the gateway's bytes with, measured in the same run: Node-RED +
 * node-red-contrib-modbus (the versions issue #14 measured), polling the same simulators and
 * publishing to the same mosquitto, one Modbus-Read node per controller wired to an mqtt out node
 * (QoS 1) whose payload is the values array as Node-RED emits it (no seq, no names, no timestamp).
 *
 * Node-RED is installed on demand from the npm registry into a cache outside the repo (nothing of
 * it is in package.json), and started on this Node with a flow and settings written to a temp dir:
 * headless (no editor, no HTTP server), no projects, no telemetry.
 */
export const NODE_RED_VERSIONS = { 'node-red': '4.1.8', 'node-red-contrib-modbus': '5.23.3' } as const;

export interface NodeRedPeerResult {
  versions: typeof NODE_RED_VERSIONS;
  seconds: number;
  /** Devices x registers x polls the flow was asked for in the window: the gateway rows' denominator. */
  polledValues: number;
  /** Values that arrived at the subscriber in the window, per polled value (1 = every poll arrived). */
  sentFraction: number;
  /** MQTT payload bytes that arrived in the window, per polled value. */
  wireBytesPerValue: number;
  cpuPercent: number;
  /** VmRSS max over the window (sampled once a second), and private memory (RssAnon) max. */
  rssMaxBytes: number;
  rssAnonMaxBytes: number;
}

/** Why Node-RED could not be measured, said plainly in the report. */
export interface NodeRedNotMeasured {
  notMeasured: string;
}

export function peerCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(os.homedir(), '.cache');
  return join(base, 'edge-gateway', 'bench-peers', `node-red-${NODE_RED_VERSIONS['node-red']}`);
}

function installedVersion(dir: string, name: string): string | null {
  try {
    return (JSON.parse(readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8')) as { version?: string }).version ?? null;
  } catch {
    return null;
  }
}

/** Installs the pinned versions into `dir` unless they are there already; returns Node-RED's red.js. */
export async function installNodeRed(dir: string, progress: (msg: string) => void): Promise<string> {
  const wanted = Object.entries(NODE_RED_VERSIONS);
  if (wanted.some(([name, v]) => installedVersion(dir, name) !== v)) {
    mkdirSync(dir, { recursive: true });
    const specs = wanted.map(([name, v]) => `${name}@${v}`);
    progress(`installing ${specs.join(' ')} into ${dir} (npm registry)`);
    const npm = spawn('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', '--prefix', dir, ...specs], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    npm.stdout!.on('data', (b: Buffer) => (output += b.toString()));
    npm.stderr!.on('data', (b: Buffer) => (output += b.toString()));
    const timer = setTimeout(() => npm.kill('SIGTERM'), 300_000);
    const [code, signal] = (await once(npm, 'exit').catch((err: Error) => [err.message, null])) as [number | string | null, string | null];
    clearTimeout(timer);
    if (code !== 0) throw new Error(`npm install ${specs.join(' ')} failed (${signal ?? `exit ${code}`}): ${npmErrorSummary(output)}`);
    for (const [name, v] of wanted) if (installedVersion(dir, name) !== v) throw new Error(`npm install left ${name} at ${installedVersion(dir, name) ?? 'nothing'}, not ${v}`);
  }
  return join(dir, 'node_modules', 'node-red', 'red.js');
}

/** npm's own words for a failed install: its `npm error` lines without the stack (the cause is in the first few). */
export function npmErrorSummary(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const errors = lines.filter((l) => l.startsWith('npm error') && !/^npm error\s+at /.test(l) && !/^npm error\s*$/.test(l));
  return (errors.length > 0 ? errors.slice(0, 4) : lines.slice(-3)).join(' | ') || 'no output';
}

/**
 * The flow: per device a modbus-client config node and a Modbus-Read node polling `registers`
 * registers from address 0 every `intervalMs`, wired to an mqtt out node (QoS 1, not retained)
 * publishing to `<topic>/<device index>` on one mqtt-broker config node.
 */
export function nodeRedFlow(o: {
  devices: readonly { host: string; port: number }[];
  table: 'holding' | 'input';
  registers: number;
  intervalMs: number;
  broker: { host: string; port: number };
  topic: string;
}): Record<string, unknown>[] {
  const tab = 'bench-tab';
  const broker = 'bench-broker';
  const nodes: Record<string, unknown>[] = [
    { id: tab, type: 'tab', label: 'edge-gateway bench peer' },
    { id: broker, type: 'mqtt-broker', name: 'bench', broker: o.broker.host, port: String(o.broker.port), clientid: '', autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true },
  ];
  o.devices.forEach((d, i) => {
    nodes.push(
      // The contrib's defaults (modbus-client.html), as a user adding the node gets them.
      { id: `client-${i}`, type: 'modbus-client', name: `controller-${i + 1}`, clienttype: 'tcp', bufferCommands: true, stateLogEnabled: false, queueLogEnabled: false, failureLogEnabled: true, tcpHost: d.host, tcpPort: String(d.port), tcpType: 'DEFAULT', serialPort: '/dev/ttyUSB', serialType: 'RTU-BUFFERD', serialBaudrate: '9600', serialDatabits: '8', serialStopbits: '1', serialParity: 'none', serialConnectionDelay: '100', unit_id: '1', commandDelay: '1', clientTimeout: '1000', reconnectOnTimeout: true, reconnectTimeout: '2000', parallelUnitIdsAllowed: true },
      { id: `read-${i}`, type: 'modbus-read', z: tab, name: `read-${i + 1}`, topic: '', showStatusActivities: false, logIOActivities: false, showErrors: false, unitid: '1', dataType: o.table === 'holding' ? 'HoldingRegister' : 'InputRegister', adr: '0', quantity: String(o.registers), rate: String(o.intervalMs), rateUnit: 'ms', delayOnStart: false, startDelayTime: '', server: `client-${i}`, useIOFile: false, ioFile: '', useIOForPayload: false, emptyMsgOnFail: false, wires: [[`out-${i}`], []] },
      { id: `out-${i}`, type: 'mqtt out', z: tab, name: '', topic: `${o.topic}/${i + 1}`, qos: '1', retain: 'false', broker, wires: [] },
    );
  });
  return nodes;
}

/** Settings for a headless Node-RED: no HTTP server at all, flows from `flowFile`, quiet logging. */
function settingsModule(userDir: string, flowFile: string): string {
  const settings = {
    userDir,
    flowFile,
    credentialSecret: false,
    httpAdminRoot: false,
    httpNodeRoot: false,
    logging: { console: { level: 'warn', metrics: false, audit: false } },
    telemetry: { enabled: false },
    editorTheme: { projects: { enabled: false } },
    functionExternalModules: false,
  };
  return `module.exports = ${JSON.stringify(settings, null, 2)};\n`;
}

export async function measureNodeRed(o: {
  brokerUrl: string;
  devices: readonly { host: string; port: number }[];
  table: 'holding' | 'input';
  registers: number;
  intervalMs: number;
  warmupMs: number;
  durationMs: number;
  tmpRoot: string;
  progress: (msg: string) => void;
  /** Where Node-RED is installed (default peerCacheDir()). */
  cacheDir?: string;
}): Promise<NodeRedPeerResult> {
  const redJs = await installNodeRed(o.cacheDir ?? peerCacheDir(), o.progress);
  const dir = mkdtempSync(join(o.tmpRoot, 'edge-gw-bench-node-red-'));
  const url = new URL(o.brokerUrl);
  const topic = `bench-peer/node-red-${process.pid}`;
  let child: ChildProcess | null = null;
  let sub: mqtt.MqttClient | null = null;
  try {
    const flowFile = join(dir, 'flows.json');
    writeFileSync(flowFile, JSON.stringify(nodeRedFlow({ devices: o.devices, table: o.table, registers: o.registers, intervalMs: o.intervalMs, broker: { host: url.hostname, port: Number(url.port || 1883) }, topic }), null, 2));
    const settingsFile = join(dir, 'settings.js');
    writeFileSync(settingsFile, settingsModule(dir, flowFile));

    let window = { from: Infinity, to: -Infinity };
    let wireBytes = 0;
    let values = 0;
    let malformed: string | null = null;
    const seen = new Set<string>();
    sub = await mqtt.connectAsync(o.brokerUrl, { clientId: `bench-node-red-sub-${process.pid}`, clean: true, reconnectPeriod: 0 });
    sub.on('message', (t, payload) => {
      seen.add(t);
      const now = Date.now();
      if (now < window.from || now > window.to) return;
      wireBytes += payload.length;
      let parsed: unknown;
      try {
        parsed = JSON.parse(payload.toString('utf8'));
      } catch {
        parsed = undefined;
      }
      if (Array.isArray(parsed)) values += parsed.length;
      else malformed ??= `expected a values array on ${t}, got ${payload.toString('utf8').slice(0, 80)}`;
    });
    await sub.subscribeAsync(`${topic}/#`, { qos: 1 });

    let log = '';
    child = spawn(process.execPath, [redJs, '--settings', settingsFile, '--userDir', dir, flowFile], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_RED_ENABLE_PROJECTS: 'false' } });
    child.stdout!.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-4000)));
    child.stderr!.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-4000)));
    let exited: string | null = null;
    child.once('exit', (code, signal) => (exited = signal ?? `exit ${code}`));
    child.once('error', (err) => (exited = err.message));
    const deadline = performance.now() + 60_000;
    while (seen.size < o.devices.length) {
      if (exited !== null || performance.now() > deadline) {
        throw new Error(`Node-RED ${exited === null ? `delivered values from ${seen.size} of ${o.devices.length} devices within 60 s` : `exited (${exited})`}; its log: ${log.trim().split('\n').slice(-5).join(' | ')}`);
      }
      await sleep(100);
    }
    await sleep(o.warmupMs);
    const pid = child.pid!;
    const cpu = new CpuWindow(pid);
    const from = Date.now();
    window = { from, to: from + o.durationMs };
    let rssMax = 0;
    let rssAnonMax = 0;
    while (Date.now() < window.to) {
      const m = memory(pid);
      rssMax = Math.max(rssMax, m.rssBytes);
      rssAnonMax = Math.max(rssAnonMax, m.anonBytes);
      await sleep(Math.min(1000, Math.max(1, window.to - Date.now())));
    }
    const to = Date.now();
    const cpuPercent = cpu.percentOfCore();
    const m = memory(pid);
    if (exited !== null) throw new Error(`Node-RED exited during the window (${exited})`);
    if (malformed !== null) throw new Error(`Node-RED published something else than the flow says: ${malformed}`);
    const polledValues = o.devices.length * o.registers * ((to - from) / o.intervalMs);
    return {
      versions: NODE_RED_VERSIONS,
      seconds: (to - from) / 1000,
      polledValues,
      sentFraction: values / polledValues,
      wireBytesPerValue: wireBytes / polledValues,
      cpuPercent,
      rssMaxBytes: Math.max(rssMax, m.rssBytes),
      rssAnonMaxBytes: Math.max(rssAnonMax, m.anonBytes),
    };
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 10_000);
      await gone.catch(() => undefined);
      clearTimeout(timer);
    }
    await sub?.endAsync(true).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
