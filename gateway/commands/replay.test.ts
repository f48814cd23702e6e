import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClaimedBatch } from '../model/claimed-batch.js';
import type { Reading } from '../model/reading.js';
import { Outbox } from '../outbox/outbox.js';
import { batchPayload } from '../payload/envelope.js';
import { rowEncoder } from '../payload/encode.js';
import { anyBatchPayloadSchema } from '../forwarder/payload-schema.js';
import { commandsSchema } from '../config/commands-schema.js';
import { CommandChannel } from './channel.js';
import { parseInbound, REPLAY_MAX_SEQS, type ParsedReplay } from './command-message.js';
import type { CommandReport } from './command-runner.js';
import { CommandJournal } from './journal.js';
import { REPLAY_RATE, ReplayHandler } from './replay.js';

const log = pino({ level: 'silent' });
const NOW = 1_800_000_000_000;

let dir: string;
let outbox: Outbox;
let journal: CommandJournal;
let published: ClaimedBatch[];
let reports: CommandReport[];
let now: number;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'replay-test-'));
  outbox = new Outbox({
    path: join(dir, 'outbox.db'),
    durability: 'normal',
    rowMaxReadings: 100,
    encoder: rowEncoder(1),
    retention: { maxBytes: 1e9, maxAgeMs: 86400e3 },
    keepAcked: { maxAgeMs: 600_000, maxBytes: 32e6 },
  });
  journal = new CommandJournal({ path: join(dir, 'commands.db'), keepMs: 600_000, maxRows: 1000 });
  published = [];
  reports = [];
  now = NOW;
});
afterEach(() => {
  outbox.close();
  journal.close();
  rmSync(dir, { recursive: true, force: true });
});

function handler(publish?: (b: ClaimedBatch) => Promise<void>): ReplayHandler {
  return new ReplayHandler({
    journal,
    source: outbox,
    publish: publish ?? (async (b) => void published.push(b)),
    batchMaxReadings: 150,
    batchMaxBytes: 1e9,
    maxExpiryAheadMs: 300_000,
    report: (r) => reports.push(r),
    log,
    now: () => now,
  });
}

function readings(n: number, kind?: 'event'): Reading[] {
  return Array.from({ length: n }, (_, i) => ({ device: 'dev', point: 'p', value: i, quality: 'good' as const, ts: NOW + i, kind }));
}

/** Commit and deliver (ack) `n` telemetry readings, as the forwarder would. */
function deliver(n: number): void {
  outbox.append('telemetry', readings(n), now);
  for (let b = outbox.claim('telemetry', 1000, 1e9); b; b = outbox.claim('telemetry', 1000, 1e9)) outbox.ack(b, now);
}

function request(fields: Record<string, unknown>): ParsedReplay {
  const inbound = parseInbound(JSON.stringify({ v: 1, id: 'r-1', device: '_gateway', action: 'replay', expiresAt: now + 60_000, ...fields }), 'mqtt');
  if (inbound.kind !== 'replay') throw new Error('not parsed as a replay');
  return inbound.parsed;
}

function seqsOf(batches: ClaimedBatch[]): number[] {
  return batches.flatMap((b) => (JSON.parse(`[${b.bodies.map((x) => x.toString('utf8')).join(',')}]`) as { seq: number }[]).map((r) => r.seq));
}

describe('parsing a replay request', () => {
  it('routes action replay to its own parser and bounds the range', () => {
    expect(parseInbound('{"v":1,"id":"c","device":"plc","point":"sp","action":"write","value":1,"expiresAt":1}', 'mqtt').kind).toBe('command');
    const ok = request({ fromSeq: 5, toSeq: 9, outbox: 'abc' });
    expect(ok).toEqual({ ok: true, replay: { id: 'r-1', fromSeq: 5, toSeq: 9, outbox: 'abc', expiresAt: now + 60_000, source: 'mqtt' } });
    expect(request({ fromSeq: 9, toSeq: 5 })).toMatchObject({ ok: false, id: 'r-1', reason: expect.stringContaining('toSeq is below fromSeq') });
    expect(request({ fromSeq: 1, toSeq: REPLAY_MAX_SEQS + 1 })).toMatchObject({ ok: false, reason: expect.stringContaining(`at most ${REPLAY_MAX_SEQS}`) });
    expect(request({ fromSeq: 1, toSeq: 2, device: 'plc' })).toMatchObject({ ok: false, reason: expect.stringContaining('device') });
    expect(request({ fromSeq: 0, toSeq: 2 })).toMatchObject({ ok: false });
  });
});

describe('ReplayHandler', () => {
  it('re-sends the kept rows of the range and reports what it no longer holds', async () => {
    deliver(300); // rows 1-100, 101-200, 201-300, all acked and kept
    outbox.append('telemetry', readings(50), now); // 301-350 pending, not delivered yet
    outbox.enforceRetention(now + 700_000); // kept rows past keepAcked are forgotten ...
    deliver(100); // ... and the pending 301-350 are delivered with 351-450: 301-450 kept
    const report = await handler().handle(request({ fromSeq: 250, toSeq: 450, outbox: outbox.id }));
    expect(report).toMatchObject({ outcome: 'executed', id: 'r-1', action: 'replay', device: '_gateway', fromSeq: 250, toSeq: 450 });
    expect(seqsOf(published)).toEqual(Array.from({ length: 150 }, (_, i) => 301 + i));
    expect(report.replayed).toBe(150);
    // 250-300 were forgotten (past keepAcked): unavailable, not re-sent.
    expect(report.unavailable).toBe('250-300');
    expect(reports.map((r) => r.outcome)).toEqual(['accepted', 'executed']);
    expect(journal.find('r-1')?.outcome).toBe('executed');
  });

  it('marks the batches it publishes as a replay, in a payload consumers validate', () => {
    deliver(10);
    const batch = outbox.readKept('telemetry', 0, 1, 10, 100, 1e9)!;
    const payload = JSON.parse(batchPayload('gw-1', outbox.id, 'b-r1', batch, now, 1, true).toString('utf8')) as Record<string, unknown>;
    expect(payload.replay).toBe(true);
    expect(anyBatchPayloadSchema.safeParse(payload).success).toBe(true);
    expect(JSON.parse(batchPayload('gw-1', outbox.id, 'b-1', batch, now, 1).toString('utf8'))).not.toHaveProperty('replay');
  });

  it('acts on an id once, refuses another outbox, seqs not yet handed out, stale requests and floods', async () => {
    deliver(100);
    const h = handler();
    await h.handle(request({ fromSeq: 1, toSeq: 10 }));
    const again = await h.handle(request({ fromSeq: 1, toSeq: 10 }));
    expect(again).toMatchObject({ outcome: 'duplicate', first: 'executed' });
    expect(await h.handle(request({ id: 'r-2', fromSeq: 1, toSeq: 10, outbox: 'another' }))).toMatchObject({ outcome: 'rejected', reason: expect.stringMatching(/^wrong-outbox/) });
    expect(await h.handle(request({ id: 'r-3', fromSeq: 1, toSeq: 101 }))).toMatchObject({ outcome: 'rejected', reason: expect.stringMatching(/^out-of-range/) });
    expect(await h.handle(request({ id: 'r-4', fromSeq: 1, toSeq: 10, expiresAt: now - 1 }))).toMatchObject({ outcome: 'expired' });
    expect(await h.handle(request({ id: 'r-5', fromSeq: 1, toSeq: 10, expiresAt: now + 3_600_000 }))).toMatchObject({ outcome: 'rejected', reason: expect.stringMatching(/^expiry-too-far/) });
    const outcomes: string[] = [];
    for (let i = 0; i < REPLAY_RATE.burst + 2; i++) outcomes.push((await h.handle(request({ id: `f-${i}`, fromSeq: 1, toSeq: 1 }))).outcome);
    expect(outcomes).toContain('rejected');
    expect(published.length).toBeLessThanOrEqual(REPLAY_RATE.burst + 1);
  });

  it('reports a publish that fails as failed, with what it had sent', async () => {
    deliver(300);
    let calls = 0;
    const report = await handler(async () => {
      if (++calls === 2) throw new Error('connection lost');
    }).handle(request({ fromSeq: 1, toSeq: 300 }));
    expect(report).toMatchObject({ outcome: 'failed', replayed: 100, reason: expect.stringContaining('connection lost') });
    expect(journal.find('r-1')?.outcome).toBe('failed');
  });
});

describe('the command channel routes replay requests', () => {
  it('to the replay handler, and refuses them when nothing is kept', async () => {
    deliver(50);
    const common = {
      gatewayId: 'gw-1',
      config: commandsSchema.parse({ enabled: true }),
      keys: [],
      devices: { driverOf: () => undefined },
      clockSynced: () => true,
      report: (r: CommandReport) => reports.push(r),
      log,
    };
    const message = JSON.stringify({ v: 1, id: 'ch-1', device: '_gateway', action: 'replay', fromSeq: 1, toSeq: 50, expiresAt: Date.now() + 60_000 });
    const withReplay = new CommandChannel({ ...common, stateDir: join(dir, 'a'), replay: { source: outbox, publish: async (b) => void published.push(b), batchMaxReadings: 1000, batchMaxBytes: 1e9 } });
    expect(await withReplay.submit(message, 'mqtt')).toMatchObject({ outcome: 'executed', replayed: 50 });
    await withReplay.close();
    const without = new CommandChannel({ ...common, stateDir: join(dir, 'b') });
    expect(await without.submit(message, 'mqtt')).toMatchObject({ outcome: 'rejected', reason: expect.stringMatching(/^not-enabled/) });
    await without.close();
  });
});
