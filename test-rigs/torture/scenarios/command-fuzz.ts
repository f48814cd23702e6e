import { rmSync } from 'node:fs';
import fc from 'fast-check';
import mqtt from 'mqtt';
import { request } from '../../../gateway/control/client.js';
import type { HealthReport } from '../../../gateway/health.js';
import { startBroker } from '../../broker/broker.js';
import { writeConfigDir } from '../../harness/config-dir.js';
import { GatewayProcess } from '../../harness/gateway-process.js';
import { PeakRss, rssBytes } from '../../harness/rss.js';
import { startModbusTcpSimulator } from '../../modbus-sim/server.js';
import { startSubscriber } from '../../subscriber/subscriber.js';

/**
 * Hostile commands against the real daemon (issue #23): fast-check cases of random and mutated
 * command payloads (wrong types, huge numbers, NaN-like strings, deep JSON, unicode, missing and
 * extra fields, valid-looking commands for undeclared points, replays of one id, expired ones,
 * payloads over the 16 KiB inbound bound, raw bytes) published through mosquitto to the command
 * topic of a daemon polling a Modbus TCP simulator with a few writable points.
 *
 * The verdict does not trust the daemon's own account: what was actuated is read from the
 * simulator's tables (every address outside the declared points must still be zero, every
 * declared point must hold a value its policy admits), and what was answered is read from the
 * events at an independent subscriber (each message with a readable id gets exactly one final
 * outcome or duplicate answer; each without one, one id-less rejection; each over 16 KiB,
 * nothing, and the inbound counter says it was dropped).
 */
export interface CommandFuzzFigures {
  profile: 'short' | 'long';
  seed: number;
  messages: number;
  /** Of them: with a readable id, without one, over the inbound size bound. */
  withId: number;
  withoutId: number;
  oversize: number;
  executed: number;
  /** Final answers by outcome, as the subscriber saw them. */
  outcomes: Record<string, number>;
  baselineRssMiB: number;
  peakRssMiB: number;
  finalRssMiB: number;
  pollsPerSBefore: number;
  pollsPerSDuring: number;
  durationS: number;
}

export interface CommandFuzzResult {
  figures: CommandFuzzFigures;
  /** One line per problem found; empty when the daemon behaved. */
  problems: string[];
}

const PROFILES = {
  // ~12 commands/s: under the inbound guard's 20/s, so a missing answer is the channel's fault.
  short: { runs: 90, gapMs: 80 },
  long: { runs: 3000, gapMs: 80 },
} as const;

/** The inbound guard's default maxMessageBytes (gateway/forwarder/inbound/inbound-guard.ts). */
const MAX_MESSAGE_BYTES = 16 * 1024;
const FINAL = new Set(['executed', 'failed', 'readback-mismatch', 'rejected', 'expired', 'interrupted']);
const ID_RE = /^[\x21-\x7e]{1,128}$/;

/** The writable points the device file declares, and where they live on the simulator. */
const WRITES = [
  { name: 'open', table: 'coil', address: 0, type: 'bool', pulse: { minMs: 20, maxMs: 200, defaultMs: 50 }, pulseOnly: true, minInterval: 0 },
  { name: 'lamp', table: 'coil', address: 1, type: 'bool', minInterval: 0 },
  { name: 'sign.program', address: 10, type: 'uint16', allowed: [0, 1, 2], minInterval: 0 },
  { name: 'heating.setpoint', address: 20, type: 'float32', min: 5, max: 30, minInterval: 0 },
];
const DECLARED_COILS = new Set([0, 1]);
const DECLARED_HOLDING = new Set([10, 20, 21]);

type Fields = Record<string, unknown>;

/** A command for a declared point that passes every check (before mutation). */
const validCommand: fc.Arbitrary<Fields> = fc.oneof(
  fc.record({ point: fc.constant('open'), action: fc.constant('pulse'), durationMs: fc.integer({ min: 20, max: 200 }) }),
  fc.record({ point: fc.constant('lamp'), action: fc.constant('write'), value: fc.boolean() }),
  fc.record({ point: fc.constant('sign.program'), action: fc.constant('write'), value: fc.constantFrom(0, 1, 2) }),
  fc.record({ point: fc.constant('heating.setpoint'), action: fc.constant('write'), value: fc.constantFrom(5, 18, 21.5, 30) }),
);

/** Values no field should take: wrong types, huge and NaN-like numbers, unicode, deep objects. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e309', '0x10', '', ' ', null, [], {}, true, false, -0, 1e308, -1e308, 2 ** 53 + 2, 65536, -1, 3, 31, 4.9, 1.5),
  fc.double(),
  fc.integer(),
  fc.bigInt().map(String),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.jsonValue({ maxDepth: 4 }),
);

const FIELDS = ['v', 'id', 'device', 'point', 'action', 'value', 'durationMs', 'expiresAt', 'issuedAt', 'keyId', 'sig'];

type Mutation =
  | { op: 'none' }
  | { op: 'delete'; field: string }
  | { op: 'set'; field: string; value: unknown }
  | { op: 'extra'; key: string; value: unknown }
  | { op: 'deep'; depth: number }
  | { op: 'pad'; bytes: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), field: fc.constantFrom(...FIELDS) }),
  { arbitrary: fc.record({ op: fc.constant('set' as const), field: fc.constantFrom(...FIELDS), value: hostileValue }), weight: 4 },
  fc.record({ op: fc.constant('extra' as const), key: fc.string({ unit: 'grapheme', maxLength: 20 }), value: fc.jsonValue({ maxDepth: 6 }) }),
  fc.record({ op: fc.constant('deep' as const), depth: fc.integer({ min: 100, max: 7000 }) }),
  // Under and over the inbound bound: 16 KiB+ must be dropped whole, never half-read.
  fc.record({ op: fc.constant('pad' as const), bytes: fc.integer({ min: 8_000, max: 40_000 }) }),
);

type Case =
  | { kind: 'valid'; fields: Fields; mutation: Mutation }
  | { kind: 'undeclared'; device: string; point: string; fields: Fields }
  | { kind: 'replay'; pick: number }
  | { kind: 'expired'; fields: Fields; agoMs: number }
  | { kind: 'far'; fields: Fields }
  | { kind: 'rawBytes'; bytes: Uint8Array }
  | { kind: 'rawJson'; text: string };

const caseArb: fc.Arbitrary<Case> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('valid' as const), fields: validCommand, mutation: fc.constant<Mutation>({ op: 'none' }) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('valid' as const), fields: validCommand, mutation }), weight: 6 },
  {
    arbitrary: fc.record({
      kind: fc.constant('undeclared' as const),
      // A read point (r0), a near miss, a unicode twin, another device, an empty name.
      device: fc.constantFrom('plc', 'plc', 'plc2', 'PLC', '_gateway', 'plc\u200b'),
      point: fc.constantFrom('r0', 'coil.2', 'door.lock', 'open ', 'Open', 'sign.programme', 'heating.setpoint\u0000', 'ореn'),
      fields: validCommand,
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant('replay' as const), pick: fc.nat() }), weight: 2 },
  fc.record({ kind: fc.constant('expired' as const), fields: validCommand, agoMs: fc.integer({ min: 1, max: 10 ** 12 }) }),
  fc.record({ kind: fc.constant('far' as const), fields: validCommand }),
  fc.record({ kind: fc.constant('rawBytes' as const), bytes: fc.uint8Array({ minLength: 0, maxLength: 2000 }) }),
  fc.record({ kind: fc.constant('rawJson' as const), text: fc.json({ maxDepth: 5 }) }),
);

/** What the gateway can read as the id (docs/commands.md: printable ASCII, 1-128), or null. */
export function readableId(payload: Buffer): string | null {
  let raw: unknown;
  try {
    raw = JSON.parse(payload.toString('utf8'));
  } catch {
    return null;
  }
  if (raw === null || typeof raw !== 'object') return null;
  const id = (raw as Record<string, unknown>).id;
  return typeof id === 'string' && ID_RE.test(id) ? id : null;
}

export async function commandFuzzScenario(profile: 'short' | 'long', seed = Math.floor(Math.random() * 2 ** 31)): Promise<CommandFuzzResult> {
  const p = PROFILES[profile];
  const t0 = Date.now();
  const broker = await startBroker();
  const sim = await startModbusTcpSimulator({ units: [1], clock: 'manual' });
  const config = writeConfigDir({
    gatewayId: 'cmd-fuzz',
    brokerUrls: [broker.url],
    gateway: { commands: { enabled: true, maxExpiryAhead: '1m' } },
    devices: {
      plc: {
        type: 'modbus-tcp',
        host: sim.host,
        port: sim.port,
        unitId: 1,
        intervalMs: 100,
        timeoutMs: 500,
        registers: [
          { name: 'r0', address: 0, type: 'uint16' },
          { name: 'program', address: 10, type: 'uint16' },
          { name: 'lamp.on', table: 'coil', address: 1, type: 'bool' },
        ],
        writes: WRITES,
      },
    },
  });
  const topic = `${config.topicPrefix}/${config.gatewayId}/commands`;
  const sub = await startSubscriber({ url: broker.url, prefix: config.topicPrefix, gatewayId: config.gatewayId, clientId: `cmd-fuzz-sub-${process.pid}-${t0}`, clean: true, keepReadings: true });
  const gw = GatewayProcess.start(config.dir);
  const rss = new PeakRss(gw.pid);
  let centre: mqtt.MqttClient | null = null;
  const problems: string[] = [];
  const figures = { profile, seed, messages: 0, withId: 0, withoutId: 0, oversize: 0, outcomes: {} } as CommandFuzzFigures;
  const alive = () => {
    if (gw.child.exitCode !== null || gw.child.signalCode !== null) throw new Error(`daemon exited (${gw.child.exitCode ?? gw.child.signalCode}): ${[...gw.stderr.slice(-8), ...gw.logs.slice(-3).map((l) => JSON.stringify(l))].join('\n')}`);
  };
  const status = () => request<HealthReport>(`${config.dir}/control.sock`, { cmd: 'status' }, 5000);
  const polls = async () => (await status()).devices.plc?.counters.polls ?? 0;

  // What the subscriber must see: per readable id, how many messages carried it.
  const sentPerId = new Map<string, number>();
  /** When an id was first sent: the journal recognises it for 2 x maxExpiryAhead (2 min) after. */
  const firstSentMs = new Map<string, number>();
  const reusedLate = new Set<string>();
  /** Earlier payloads with a readable id, re-sent byte for byte by a replay (a captured command). */
  const sentWithId: Buffer[] = [];
  let fresh = 0;

  const payloadFor = (c: Case): Buffer => {
    const now = Date.now();
    const base = (fields: Fields): Fields => ({ v: 1, id: `fz-${seed}-${fresh++}`, device: 'plc', expiresAt: now + 15_000, ...fields });
    switch (c.kind) {
      case 'rawBytes':
        return Buffer.from(c.bytes);
      case 'rawJson':
        return Buffer.from(c.text);
      case 'undeclared':
        return Buffer.from(JSON.stringify({ ...base(c.fields), device: c.device, point: c.point }));
      case 'replay':
        return sentWithId.length > 0 ? sentWithId[c.pick % sentWithId.length]! : Buffer.from('{}');
      case 'expired':
        return Buffer.from(JSON.stringify({ ...base(c.fields), expiresAt: Math.max(0, now - c.agoMs) }));
      case 'far':
        return Buffer.from(JSON.stringify({ ...base(c.fields), expiresAt: now + 3_600_000 }));
      case 'valid': {
        const m = c.mutation;
        const cmd = base(c.fields);
        if (m.op === 'delete') delete cmd[m.field];
        if (m.op === 'set') cmd[m.field] = m.value;
        if (m.op === 'extra') cmd[m.key] = m.value;
        const text = JSON.stringify(cmd);
        // Built as text: JSON.stringify of a 7000-deep array would itself recurse that deep.
        if (m.op === 'deep') return Buffer.from(`${text.slice(0, -1)},"deep":${'['.repeat(m.depth)}${']'.repeat(m.depth)}}`);
        if (m.op === 'pad') return Buffer.from(`${text.slice(0, -1)},"pad":"${'é'.repeat(m.bytes / 2)}"}`);
        return Buffer.from(text);
      }
    }
  };

  const answers = () => {
    const perId = new Map<string, string[]>();
    let idless = 0;
    for (const r of sub.readings) {
      if (r.device !== '_gateway' || r.point !== 'command') continue;
      const outcome = String(r.value);
      if (!FINAL.has(outcome) && outcome !== 'duplicate') continue;
      const id = r.attrs?.id;
      if (typeof id !== 'string') {
        idless++;
        continue;
      }
      perId.set(id, [...(perId.get(id) ?? []), outcome]);
    }
    return { perId, idless };
  };
  const answered = () => {
    const { perId, idless } = answers();
    let n = idless;
    for (const v of perId.values()) n += v.length;
    return n;
  };

  try {
    await gw.ready(30_000);
    await gw.waitForLog((l) => l.msg === 'subscribed', 15_000);
    centre = await mqtt.connectAsync(broker.url, { clientId: `cmd-fuzz-centre-${process.pid}-${t0}` });
    const polls0 = await polls();
    const tPolls0 = Date.now();
    await new Promise((r) => setTimeout(r, 1_000));
    figures.pollsPerSBefore = ((await polls()) - polls0) / ((Date.now() - tPolls0) / 1000);
    figures.baselineRssMiB = rss.reset() / 2 ** 20;

    const pollsAtStart = await polls();
    const tStart = Date.now();
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const payload = payloadFor(c);
        figures.messages++;
        if (payload.length > MAX_MESSAGE_BYTES) figures.oversize++;
        else {
          const id = readableId(payload);
          if (id === null) figures.withoutId++;
          else {
            figures.withId++;
            sentPerId.set(id, (sentPerId.get(id) ?? 0) + 1);
            sentWithId.push(payload);
            const first = firstSentMs.get(id);
            if (first === undefined) firstSentMs.set(id, Date.now());
            // A sender that reuses an id after the journal's window has broken the contract
            // (docs/commands.md): acting again is then allowed. Generated ids (a bigint string in
            // a mutated field, an id in arbitrary JSON) can repeat that late.
            else if (Date.now() - first > 100_000) reusedLate.add(id);
          }
        }
        await centre!.publishAsync(topic, payload, { qos: 1 });
        await new Promise((r) => setTimeout(r, p.gapMs));
        alive();
      }),
      { numRuns: p.runs, seed, endOnFailure: true },
    );
    const expected = figures.withId + figures.withoutId;
    await sub.waitFor(() => answered() >= expected, 30_000).catch(() => undefined); // judged below
    alive();
    figures.pollsPerSDuring = ((await polls()) - pollsAtStart) / ((Date.now() - tStart) / 1000);
    // Pulses and writes in flight finish (the longest pulse is 200 ms), then the ground truth.
    await new Promise((r) => setTimeout(r, 500));
    const health = await status();

    const { perId, idless } = answers();
    for (const [id, n] of sentPerId) {
      const got = perId.get(id) ?? [];
      if (got.length !== n) problems.push(`id ${JSON.stringify(id)}: ${n} message(s), ${got.length} answer(s) [${got.join(', ')}]`);
      if (got.filter((o) => o === 'executed').length > 1 && !reusedLate.has(id)) problems.push(`id ${JSON.stringify(id)} executed more than once`);
    }
    for (const id of perId.keys()) if (!sentPerId.has(id)) problems.push(`answer for id ${JSON.stringify(id)} that no message carried`);
    if (idless !== figures.withoutId) problems.push(`${figures.withoutId} message(s) without a readable id, ${idless} id-less answer(s)`);
    if (health.broker.inbound.dropped.tooLarge !== figures.oversize) problems.push(`${figures.oversize} message(s) over ${MAX_MESSAGE_BYTES} bytes, inbound.dropped.tooLarge = ${health.broker.inbound.dropped.tooLarge}`);
    for (const outcomes of perId.values()) for (const o of outcomes) figures.outcomes[o] = (figures.outcomes[o] ?? 0) + 1;
    figures.executed = figures.outcomes.executed ?? 0;

    // What the device holds: nothing outside the declared points, nothing a policy forbids.
    const unit = sim.unit(1);
    for (let a = 0; a < 65536; a++) {
      if (!DECLARED_COILS.has(a) && unit.coil[a] !== 0) problems.push(`undeclared coil ${a} = ${unit.coil[a]}`);
      if (!DECLARED_HOLDING.has(a) && unit.holding[a] !== 0) problems.push(`undeclared holding register ${a} = ${unit.holding[a]}`);
      if (unit.input[a] !== 0 || unit.discrete[a] !== 0) problems.push(`input/discrete ${a} changed`);
      if (problems.length > 40) break;
    }
    if (unit.coil[0] !== 0) problems.push('the pulse-only coil 0 was left on');
    if (![0, 1, 2].includes(unit.holding[10]!)) problems.push(`sign.program holds ${unit.holding[10]}, outside allowed [0, 1, 2]`);
    const words = Buffer.alloc(4);
    words.writeUInt16BE(unit.holding[20]!, 0); // float32 ABCD: high word first
    words.writeUInt16BE(unit.holding[21]!, 2);
    const setpoint = words.readFloatBE(0);
    if (!(unit.holding[20] === 0 && unit.holding[21] === 0) && !(setpoint >= 5 && setpoint <= 30)) problems.push(`heating.setpoint holds ${setpoint}, outside 5..30`);
    if (figures.pollsPerSDuring <= 0) problems.push('no polls during the fuzz');
    if (gw.logs.some((l) => l.level >= 60)) problems.push(`fatal log line: ${JSON.stringify(gw.logs.find((l) => l.level >= 60))}`);
    alive();
    figures.peakRssMiB = rss.peak / 2 ** 20;
    figures.finalRssMiB = rssBytes(gw.pid) / 2 ** 20;
  } finally {
    rss.stop();
    await centre?.endAsync().catch(() => undefined);
    await gw.stop();
    await sub.stop().catch(() => undefined);
    await sim.stop();
    await broker.dispose();
    rmSync(config.dir, { recursive: true, force: true });
  }
  figures.durationS = (Date.now() - t0) / 1000;
  for (const k of ['baselineRssMiB', 'peakRssMiB', 'finalRssMiB', 'pollsPerSBefore', 'pollsPerSDuring'] as const) figures[k] = Math.round(figures[k] * 10) / 10;
  process.stderr.write(`[command-fuzz] ${JSON.stringify(figures)}\n`);
  return { figures, problems };
}
