import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writablePolicySchema, type WritablePoint, type WriteRequest, type WriteResult } from '../../drivers/writable-point.js';
import { parseCommand, type Command } from './command-message.js';
import { CommandRunner, MAX_IN_FLIGHT, type CommandReport, type CommandTargets } from './command-runner.js';
import { CommandJournal } from './journal.js';
import { loadPublicKey, signedBytes } from './signature.js';

const log = pino({ level: 'silent' });
const GW = 'gw-1';
const NOW = 1_800_000_000_000;

/** A device whose writes land in `written`; the gate is a pulse output, the setpoint a register. */
class RecordingTargets implements CommandTargets {
  written: { device: string; point: string; request: WriteRequest }[] = [];
  failWith: Error | null = null;
  readBackOverride: number | null = null;
  writeDelayMs = 0;
  hold: Promise<void> | null = null;
  readonly points = new Map<string, WritablePoint>([
    ['exit-barrier/gate', { device: 'exit-barrier', policy: writablePolicySchema.parse({ name: 'gate', minInterval: 0 }), actions: ['pulse'], pulse: { minMs: 100, maxMs: 5000, defaultMs: 800 }, valueType: 'boolean' }],
    ['plc/setpoint', { device: 'plc', policy: writablePolicySchema.parse({ name: 'setpoint', min: 0, max: 100, minInterval: 0 }), actions: ['write'], valueType: 'number' }],
    ['sign/program', { device: 'sign', policy: writablePolicySchema.parse({ name: 'program', allowed: [0, 1, 2], minInterval: 5000, requireSignature: false, allowUnsyncedClock: true }), actions: ['write'], valueType: 'number' }],
  ]);
  point(device: string, point: string) {
    return this.points.get(`${device}/${point}`);
  }
  validate(_d: string, _p: string, r: WriteRequest) {
    return r.action === 'write' && typeof r.value === 'number' && !Number.isInteger(r.value) ? 'not-representable: the register holds an integer' : null;
  }
  async write(device: string, point: string, request: WriteRequest): Promise<WriteResult> {
    if (this.writeDelayMs > 0) await new Promise((r) => setTimeout(r, this.writeDelayMs));
    if (this.hold) await this.hold;
    if (this.failWith) throw this.failWith;
    this.written.push({ device, point, request });
    if (request.action === 'write') return { readBack: this.readBackOverride ?? request.value };
    return {};
  }
}

let dir: string;
let journal: CommandJournal;
let targets: RecordingTargets;
let reports: CommandReport[];
let now: number;
let synced: boolean;

function runner(extra: Partial<ConstructorParameters<typeof CommandRunner>[0]> = {}): CommandRunner {
  return new CommandRunner({
    gatewayId: GW,
    journal,
    targets,
    keys: [],
    maxExpiryAheadMs: 300_000,
    gatewayRate: { perSecond: 1000, burst: 1000 },
    clockSynced: () => synced,
    report: (r) => reports.push(r),
    log,
    now: () => now,
    ...extra,
  });
}

function cmd(fields: Record<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify({ v: 1, id: 'c-1', device: 'plc', point: 'setpoint', action: 'write', value: 42, expiresAt: now + 30_000, ...fields }));
}

const outcomes = () => reports.map((r) => r.outcome);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'commands-'));
  journal = new CommandJournal({ path: join(dir, 'commands.db'), keepMs: 600_000, maxRows: 1000 });
  targets = new RecordingTargets();
  reports = [];
  now = NOW;
  synced = true;
});
afterEach(() => {
  journal.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('command runner', () => {
  it('writes a declared point once, reports accepted then executed, and journals it', async () => {
    const r = await runner().handle(parseCommand(cmd({}), 'mqtt'));
    expect(r).toMatchObject({ id: 'c-1', outcome: 'executed', readBack: 42 });
    expect(outcomes()).toEqual(['accepted', 'executed']);
    expect(targets.written).toEqual([{ device: 'plc', point: 'setpoint', request: { action: 'write', value: 42 } }]);
    expect(journal.find('c-1')).toMatchObject({ outcome: 'executed', device: 'plc', point: 'setpoint', request: '{"value":42}' });
  });

  it('never actuates the same id twice: again at once, and again after a restart, it answers the first outcome', async () => {
    await runner().handle(parseCommand(cmd({}), 'mqtt'));
    const again = await runner().handle(parseCommand(cmd({ value: 7 }), 'mqtt'));
    expect(again).toMatchObject({ outcome: 'duplicate', first: 'executed' });
    journal.close();
    journal = new CommandJournal({ path: join(dir, 'commands.db'), keepMs: 600_000, maxRows: 1000 });
    const afterRestart = await runner().handle(parseCommand(cmd({}), 'mqtt'));
    expect(afterRestart).toMatchObject({ outcome: 'duplicate', first: 'executed' });
    expect(targets.written).toHaveLength(1);
  });

  it('turns a command left pending by a crash into interrupted at start, and never retries it', async () => {
    journal.record({ id: 'cut', receivedMs: NOW - 1000, source: 'mqtt', device: 'plc', point: 'setpoint', action: 'write', request: '{"value":1}', expiresAt: NOW + 60_000, outcome: 'pending', reason: null, finishedMs: null, detail: null });
    runner().recoverInterrupted();
    expect(reports).toEqual([expect.objectContaining({ id: 'cut', outcome: 'interrupted' })]);
    expect(journal.find('cut')?.outcome).toBe('interrupted');
    const again = await runner().handle(parseCommand(cmd({ id: 'cut', value: 1 }), 'mqtt'));
    expect(again).toMatchObject({ outcome: 'duplicate', first: 'interrupted' });
    expect(targets.written).toHaveLength(0);
  });

  it('rejects what is not declared, naming device and point', async () => {
    const a = await runner().handle(parseCommand(cmd({ id: 'a', point: 'nosuch' }), 'mqtt'));
    const b = await runner().handle(parseCommand(cmd({ id: 'b', device: 'ghost' }), 'mqtt'));
    expect(a).toMatchObject({ outcome: 'rejected', reason: expect.stringMatching(/^not-declared: device "plc" has no writable point "nosuch"/) });
    expect(b.reason).toMatch(/device "ghost"/);
    expect(targets.written).toHaveLength(0);
    expect(journal.find('a')?.outcome).toBe('rejected');
  });

  it('refuses out-of-range, disallowed, wrong-type and unrepresentable values, never clipping', async () => {
    const cases = [
      [cmd({ id: 'hi', value: 101 }), /^out-of-range: 101 is above max 100/],
      [cmd({ id: 'lo', value: -1 }), /^out-of-range: -1 is below min 0/],
      [cmd({ id: 'type', value: true }), /^wrong-type: point "setpoint" takes a number/],
      [cmd({ id: 'frac', value: 2.5 }), /^not-representable/],
      [cmd({ id: 'prog', device: 'sign', point: 'program', value: 3 }), /^not-allowed: 3 is not one of \[0,1,2\]/],
      [cmd({ id: 'act', action: 'pulse', value: undefined }), /^action-not-allowed: point "setpoint" takes write, not pulse/],
      [cmd({ id: 'long', device: 'exit-barrier', point: 'gate', action: 'pulse', value: undefined, durationMs: 60_000 }), /^out-of-range: durationMs 60000 is outside 100..5000/],
    ] as const;
    for (const [payload, reason] of cases) {
      const r = await runner().handle(parseCommand(payload, 'mqtt'));
      expect(r.outcome, String(reason)).toBe('rejected');
      expect(r.reason).toMatch(reason);
    }
    expect(targets.written).toHaveLength(0);
  });

  it('pulses with the point default duration when the command names none', async () => {
    const r = await runner().handle(parseCommand(cmd({ device: 'exit-barrier', point: 'gate', action: 'pulse', value: undefined }), 'mqtt'));
    expect(r.outcome).toBe('executed');
    expect(targets.written[0]!.request).toEqual({ action: 'pulse', durationMs: 800 });
  });

  it('checks expiry at the edge: past, too far ahead, and expired while waiting for its point', async () => {
    const late = await runner().handle(parseCommand(cmd({ id: 'late', expiresAt: NOW - 1 }), 'mqtt'));
    expect(late).toMatchObject({ outcome: 'expired' });
    const far = await runner().handle(parseCommand(cmd({ id: 'far', expiresAt: NOW + 3_600_000 }), 'mqtt'));
    expect(far.reason).toMatch(/^expiry-too-far/);
    // Two commands for one point: the second waits for the first's write, and expires meanwhile.
    targets.writeDelayMs = 30;
    const r = runner();
    const first = r.handle(parseCommand(cmd({ id: 'w1' }), 'mqtt'));
    const second = r.handle(parseCommand(cmd({ id: 'w2', value: 43, expiresAt: NOW + 10 }), 'mqtt'));
    await new Promise((res) => setTimeout(res, 5));
    now = NOW + 20;
    expect((await first).outcome).toBe('executed');
    expect(await second).toMatchObject({ outcome: 'expired', reason: expect.stringMatching(/expired before the write/) });
    expect(targets.written.map((w) => w.request)).toEqual([{ action: 'write', value: 42 }]);
  });

  it('refuses commands while the clock is unsynchronised unless the point allows it', async () => {
    synced = false;
    const r = await runner().handle(parseCommand(cmd({}), 'mqtt'));
    expect(r.reason).toMatch(/^clock-unsynced/);
    const allowed = await runner().handle(parseCommand(cmd({ id: 'p', device: 'sign', point: 'program', value: 1 }), 'mqtt'));
    expect(allowed.outcome).toBe('executed');
  });

  it('with keys set, refuses unsigned and badly signed commands and runs well-signed ones', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const other = generateKeyPairSync('ed25519');
    const keys = [loadPublicKey('cc', publicKey.export({ type: 'spki', format: 'pem' }).toString())];
    const signed = (fields: Record<string, unknown>, key = privateKey, gateway = GW) => {
      const parsed = parseCommand(cmd(fields), 'mqtt');
      if (!parsed.ok) throw new Error(parsed.reason);
      const sig = sign(null, signedBytes(gateway, parsed.command as Command), key).toString('base64');
      return cmd({ ...fields, sig });
    };
    const r = runner({ keys });
    expect((await r.handle(parseCommand(cmd({ id: 'u' }), 'mqtt'))).reason).toMatch(/^signature-missing/);
    expect((await r.handle(parseCommand(signed({ id: 'k' }, other.privateKey), 'mqtt'))).reason).toMatch(/^signature-invalid/);
    expect((await r.handle(parseCommand(signed({ id: 'g' }, privateKey, 'gw-2'), 'mqtt'))).reason).toMatch(/^signature-invalid/);
    // A valid signature over other fields: the value was changed in transit.
    const tampered = JSON.parse(signed({ id: 't' }).toString()) as Record<string, unknown>;
    expect((await r.handle(parseCommand(JSON.stringify({ ...tampered, value: 99 }), 'mqtt'))).reason).toMatch(/^signature-invalid/);
    expect(targets.written).toHaveLength(0);
    expect(await r.handle(parseCommand(signed({ id: 'ok' }), 'mqtt'))).toMatchObject({ outcome: 'executed' });
    // A point that moves nothing may be exempt.
    expect((await r.handle(parseCommand(cmd({ id: 'sign', device: 'sign', point: 'program', value: 2 }), 'mqtt'))).outcome).toBe('executed');
  });

  it('rate-limits per point (minInterval) and per gateway', async () => {
    const r = runner();
    expect((await r.handle(parseCommand(cmd({ id: 'p1', device: 'sign', point: 'program', value: 1 }), 'mqtt'))).outcome).toBe('executed');
    now += 1000;
    expect((await r.handle(parseCommand(cmd({ id: 'p2', device: 'sign', point: 'program', value: 2 }), 'mqtt'))).reason).toMatch(/^rate-limited: point "program" was written 1000 ms ago; minInterval is 5000 ms/);
    const g = runner({ gatewayRate: { perSecond: 1, burst: 2 } });
    const results = [];
    for (let i = 0; i < 4; i++) results.push((await g.handle(parseCommand(cmd({ id: `g${i}` }), 'mqtt'))).outcome);
    expect(results).toEqual(['executed', 'executed', 'rejected', 'rejected']);
  });

  it('reports a read-back mismatch and a device failure as their outcomes', async () => {
    targets.readBackOverride = 41;
    expect(await runner().handle(parseCommand(cmd({ id: 'm' }), 'mqtt'))).toMatchObject({ outcome: 'readback-mismatch', reason: 'readback-mismatch: wrote 42, read back 41' });
    targets.readBackOverride = null;
    targets.failWith = Object.assign(new Error('no answer within 500 ms'), { code: 'ETIMEDOUT' });
    expect(await runner().handle(parseCommand(cmd({ id: 'f' }), 'mqtt'))).toMatchObject({ outcome: 'failed', reason: 'ETIMEDOUT: no answer within 500 ms' });
    expect(journal.find('f')?.outcome).toBe('failed');
  });

  it('bounds the commands waiting for their devices, refusing the rest as busy', async () => {
    let release!: () => void;
    targets.hold = new Promise((r) => (release = r));
    const r = runner({ gatewayRate: { perSecond: 1e6, burst: 1e6 } });
    const waiting = Array.from({ length: MAX_IN_FLIGHT }, (_, i) => r.handle(parseCommand(cmd({ id: `q${i}` }), 'mqtt')));
    const over = await r.handle(parseCommand(cmd({ id: 'over' }), 'mqtt'));
    expect(over).toMatchObject({ outcome: 'rejected', reason: expect.stringMatching(/^busy/) });
    release();
    expect((await Promise.all(waiting)).every((w) => w.outcome === 'executed')).toBe(true);
    expect((await r.handle(parseCommand(cmd({ id: 'after' }), 'mqtt'))).outcome).toBe('executed');
  });

  it('answers any malformed payload with a rejection and never throws or writes', async () => {
    const r = runner({ gatewayRate: { perSecond: 1e9, burst: 1e9 } });
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.json(), fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a).toString('latin1'))), async (text) => {
        const rep = await r.handle(parseCommand(text, 'mqtt'));
        expect(['rejected', 'expired', 'duplicate']).toContain(rep.outcome);
      }),
      { numRuns: 300 },
    );
    expect(targets.written).toHaveLength(0);
  });
});
