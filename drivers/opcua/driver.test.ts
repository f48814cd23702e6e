import { mkdtempSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXTRA_NAMESPACES, OpcuaTestServer, freeLoopbackPort } from '../../test-rigs/opcua-server/server.js';
import type { DriverReading } from '../../gateway/model/reading.js';
import { readSecretFiles } from '../../gateway/config/secret-files.js';
import { encodeReading } from '../../gateway/payload/encode.js';
import { recordingContext } from '../../test-rigs/driver-contract.js';
import { pollRecords, publishedBatch } from '../../test-rigs/v2-batch.js';
import type { Driver, DriverContext } from '../driver.js';
import { WriteRefused } from '../writable-point.js';
import { createOpcuaDriver } from './driver.js';
import { opcuaDeviceSchema } from './schema.js';

const USER = { username: 'gateway', password: 'tr4ffic-s3cret' };
const SOURCE_OFFSET_MS = -60_000;

interface Harness {
  ctx: DriverContext;
  readings: DriverReading[];
  logText: () => string;
}

function harness(deviceId: string): Harness {
  const readings: DriverReading[] = [];
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const log = pino({ level: 'debug' }, sink).child({ device: deviceId });
  return {
    ctx: { deviceId, log, emit: (r) => readings.push(...r) },
    readings,
    logText: () => lines.join(''),
  };
}

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let pkiDir: string;
let server: OpcuaTestServer;
const homeConfig = path.join(os.homedir(), '.config');
const opcuaDirsInHome = () =>
  existsSync(homeConfig) ? readdirSync(homeConfig).filter((n) => n.toLowerCase().includes('opcua')) : [];
let homeBefore: string[];
const drivers: Driver[] = [];

function device(overrides: Record<string, unknown> = {}) {
  return opcuaDeviceSchema.parse({
    id: 'plc-1',
    type: 'opcua',
    endpointUrl: server.endpointUrl,
    auth: { type: 'username', ...USER },
    pkiDir: path.join(pkiDir, 'client'),
    // The rig's server certificate is self-signed and new per test run.
    trustUnknownServerCertificate: true,
    publishingIntervalMs: 100,
    keepAliveCount: 5,
    reconnect: { initialDelayMs: 200, maxDelayMs: 1000 },
    items: [
      { nodeId: 'ns=1;s=Counter', point: 'counter', samplingIntervalMs: 50 },
      { nodeId: 'ns=1;s=Analog', point: 'analog', unit: '%', samplingIntervalMs: 50, deadband: { type: 'absolute', value: 1 } },
      { nodeId: 'ns=1;s=Flag', point: 'flag', samplingIntervalMs: 50 },
      { nodeId: 'ns=1;s=Faulty', point: 'faulty', samplingIntervalMs: 50 },
    ],
    ...overrides,
  });
}

function start(cfg: ReturnType<typeof device>, h: Harness): Driver {
  const d = createOpcuaDriver(cfg, h.ctx);
  drivers.push(d);
  return d;
}

beforeAll(async () => {
  homeBefore = opcuaDirsInHome();
  pkiDir = mkdtempSync(path.join(os.tmpdir(), 'opcua-driver-test-'));
  server = new OpcuaTestServer({ pkiDir, tickMs: 100, jumpEvery: 5, sourceTimeOffsetMs: SOURCE_OFFSET_MS, user: USER });
  await server.start();
});

afterAll(async () => {
  await Promise.all(drivers.map((d) => d.stop()));
  await server.stop();
  rmSync(pkiDir, { recursive: true, force: true });
});

describe('opcua driver against a real node-opcua server', () => {
  it('delivers subscribed values with quality, source timestamps, deadband; restart re-creates the subscription', async () => {
    const h = harness('plc-1');
    const d = start(device(), h);
    await d.start();
    expect(['starting', 'down', 'ok']).toContain(d.status().state);

    const counters = () => h.readings.filter((r) => r.point === 'counter');
    await waitFor('5 counter readings', () => counters().length >= 5);
    expect(d.status().state).toBe('ok');

    const c = counters();
    for (const r of c) {
      expect(r.quality).toBe('good');
      expect(r.kind).toBe('telemetry');
      expect(typeof r.value).toBe('number');
      expect(Math.abs(r.ts - Date.now())).toBeLessThan(30_000);
    }
    const values = c.map((r) => r.value as number);
    expect(values).toEqual([...values].sort((a, b) => a - b));

    // Flag toggles every tick, so both values must show up as real booleans.
    await waitFor('flag true and false', () => {
      const f = h.readings.filter((r) => r.point === 'flag').map((r) => r.value);
      return f.includes(true) && f.includes(false);
    });

    // Source timestamp, not receive time: the rig stamps Faulty 60 s in the past.
    const faulty = await waitFor('faulty reading', () => h.readings.find((r) => r.point === 'faulty'));
    expect(faulty.quality).toBe('good');
    expect(faulty.ts - Date.now()).toBeLessThan(SOURCE_OFFSET_MS + 20_000);
    expect(faulty.ts - Date.now()).toBeGreaterThan(SOURCE_OFFSET_MS - 20_000);

    server.setFaultyStatus('bad');
    const bad = await waitFor('bad faulty reading', () => h.readings.find((r) => r.point === 'faulty' && r.quality === 'bad'));
    expect(bad.attrs?.status).toBe('BadSensorFailure');
    expect(bad.value).toBeNull();
    server.setFaultyStatus('uncertain');
    const unc = await waitFor('uncertain reading', () => h.readings.find((r) => r.point === 'faulty' && r.quality === 'uncertain'));
    expect(unc.attrs?.status).toMatch(/^Uncertain/);
    server.setFaultyStatus('good');

    // Deadband 1 against ±0.2 noise and 10-unit jumps: every reported change must exceed 1.
    await waitFor('3 analog readings', () => h.readings.filter((r) => r.point === 'analog').length >= 3);
    const analog = h.readings.filter((r) => r.point === 'analog').map((r) => r.value as number);
    for (let i = 1; i < analog.length; i++) expect(Math.abs(analog[i]! - analog[i - 1]!)).toBeGreaterThan(1);
    expect(h.readings.find((r) => r.point === 'analog')?.unit).toBe('%');
    const counterCount = counters().length;
    expect(analog.length).toBeLessThan(counterCount);

    // --- server restart on the same port: the subscription must come back by itself ---
    const genBefore = server.generation;
    const subBefore = d.status().detail?.subscriptionId;
    await server.restart();
    expect(server.generation).toBe(genBefore + 1);
    const restartedAt = Date.now();
    const fresh = await waitFor(
      'counter readings after restart',
      () => {
        const after = counters().filter((r) => r.ts > restartedAt);
        return after.length >= 3 ? after : undefined;
      },
      40_000,
    );
    expect(fresh.every((r) => r.quality === 'good')).toBe(true);
    const st = d.status();
    expect(st.state).toBe('ok');
    expect(st.detail?.subscriptionId).not.toBeNull();
    // node-opcua saw the break and repaired the session (new session, subscription re-created).
    expect(st.counters.connectionLost).toBeGreaterThanOrEqual(1);
    expect(st.counters.sessionsRestored! + st.counters.rebuilds!).toBeGreaterThanOrEqual(1);
    h.ctx.log.info({ subBefore, subAfter: st.detail?.subscriptionId }, 'subscription after restart');

    await d.stop();
    const n = h.readings.length;
    await new Promise((r) => setTimeout(r, 400));
    expect(h.readings.length).toBe(n);
    expect(d.status().state).toBe('stopped');
    expect(h.logText()).not.toContain(USER.password);
  });

  it('hands good values over packed: the same readings a context without emitPacked gets, as v2 poll records per source timestamp', async () => {
    // Two clients on one server at once: every sample both saw has the same source timestamp,
    // so each (point, ts) must read the same, byte for byte on the wire, on both paths.
    const cfg = device({
      items: [
        { nodeId: 'ns=1;s=Counter', point: 'counter', unit: '{ticks}', samplingIntervalMs: 50 },
        { nodeId: 'ns=1;s=Flag', point: 'flag', samplingIntervalMs: 50 },
        { nodeId: 'ns=1;s=Faulty', point: 'faulty', samplingIntervalMs: 50 },
      ],
    });
    const packed = recordingContext('plc-1', { packed: true });
    const plain = recordingContext('plc-1');
    const dp = start(cfg, { ctx: packed.ctx, readings: [], logText: () => '' });
    const dq = start(cfg, { ctx: plain.ctx, readings: [], logText: () => '' });
    server.setFaultyStatus('uncertain');
    await Promise.all([dp.start(), dq.start()]);
    const key = (r: DriverReading) => `${r.point}@${r.ts}`;
    const wire = (r: DriverReading) => encodeReading({ ...r, device: 'plc-1' }, 1, false);
    const common = () => {
      const mine = new Map(plain.readings().map((r) => [key(r), wire(r)]));
      return packed.readings().filter((r) => mine.has(key(r)));
    };
    await waitFor('20 samples seen by both clients', () => common().filter((r) => r.point === 'counter').length >= 20);
    await Promise.all([dp.stop(), dq.stop()]);
    server.setFaultyStatus('good');

    const mine = new Map(plain.readings().map((r) => [key(r), wire(r)]));
    const both = common();
    for (const r of both) expect(wire(r)).toBe(mine.get(key(r)));
    expect(both.some((r) => r.point === 'flag')).toBe(true);
    expect(both.some((r) => r.point === 'faulty' && r.quality === 'uncertain')).toBe(true);

    expect(packed.packedBatches()).toBeGreaterThan(0);
    const v2 = publishedBatch(packed.committed(), 2);
    const records = pollRecords(v2);
    const good = packed.readings().filter((r) => r.quality === 'good' && r.kind !== 'event'); // not the state events
    expect(records.reduce((n, r) => n + (r.values as unknown[]).length, 0)).toBe(good.length);
    // Counter and Flag are set in the same server tick: values sharing a timestamp share a record.
    expect(records.some((r) => (r.values as unknown[]).length > 1)).toBe(true);
    const withCounter = Object.values(v2.raw.layouts ?? {}).find((l) => l.points.includes('counter'))!;
    expect(withCounter.units?.[withCounter.points.indexOf('counter')]).toBe('{ticks}');
    expect(v2.readings).toEqual(publishedBatch(packed.committed(), 1).readings);
  });

  it('reports wrong credentials as OPCUA_AUTH_REJECTED without crashing, and never logs the password', async () => {
    const h = harness('plc-badauth');
    const d = start(device({ id: 'plc-badauth', auth: { type: 'username', username: 'gateway', password: 'wrong-pass-123' } }), h);
    await d.start();
    const st = await waitFor('auth error', () => {
      const s = d.status();
      return s.lastError?.code === 'OPCUA_AUTH_REJECTED' ? s : undefined;
    });
    expect(st.state).toBe('down');
    expect(st.lastError?.message).toContain(server.endpointUrl);
    // No values; the state change goes upstream as an event with its reason (drivers/kit/device-state-log.ts).
    expect(h.readings.filter((r) => r.point !== 'state')).toHaveLength(0);
    expect(h.readings.find((r) => r.point === 'state' && r.value === 'down')).toMatchObject({ kind: 'event', attrs: { reason: 'OPCUA_AUTH_REJECTED' } });
    await d.stop();
    expect(h.logText()).not.toContain('wrong-pass-123');
  });

  it('logs in with the password read from passwordFile', async () => {
    const pwFile = path.join(pkiDir, 'opcua.pw');
    writeFileSync(pwFile, `${USER.password}\n`, { mode: 0o600 });
    const h = harness('plc-pwfile');
    const cfg = device({ id: 'plc-pwfile', auth: { type: 'username', username: USER.username, passwordFile: pwFile } });
    expect(readSecretFiles(cfg, pkiDir).problems).toEqual([]); // what the config loader does
    const d = start(cfg, h);
    await d.start();
    await waitFor('counter via passwordFile', () => h.readings.some((r) => r.point === 'counter'));
    await d.stop();
    expect(h.logText()).not.toContain(USER.password);
  });

  it('keeps the good items when one node id does not exist (degraded, item named)', async () => {
    const h = harness('plc-partial');
    const d = start(
      device({
        id: 'plc-partial',
        items: [
          { nodeId: 'ns=1;s=Counter', point: 'counter', samplingIntervalMs: 50 },
          { nodeId: 'ns=1;s=NoSuchThing', point: 'ghost' },
        ],
      }),
      h,
    );
    await d.start();
    await waitFor('counter readings', () => h.readings.filter((r) => r.point === 'counter').length >= 2);
    const st = await waitFor('degraded', () => (d.status().state === 'degraded' ? d.status() : undefined));
    const ghost = (st.detail?.items as Record<string, { status: string; error?: string }>).ghost!;
    expect(ghost.status).toBe('error');
    expect(ghost.error).toContain('ns=1;s=NoSuchThing');
    expect(ghost.error).toMatch(/BadNodeIdUnknown/);
    expect(st.lastError?.code).toBe('OPCUA_ITEM_REJECTED');
    await d.stop();
  });

  it('resolves nsu=<uri> node ids against the server\'s namespace array; an unknown URI is an item error', async () => {
    const nodes = [
      // The plant namespace is the server's 4th (index 3), not the ns=2 an author would guess.
      { nodeId: `nsu=${EXTRA_NAMESPACES[1]};s=Temp`, point: 'temp', samplingIntervalMs: 50 },
      { nodeId: 'ns=1;s=Counter', point: 'counter', samplingIntervalMs: 50 },
      { nodeId: 'nsu=urn:nobody:serves:this;s=Temp', point: 'lost' },
    ];
    const h = harness('plc-nsu');
    const d = start(device({ id: 'plc-nsu', items: nodes }), h);
    await d.start();
    const temp = await waitFor('temp reading', () => h.readings.find((r) => r.point === 'temp'));
    expect(temp).toMatchObject({ quality: 'good', value: 3.14159 });
    const st = await waitFor('degraded', () => (d.status().state === 'degraded' ? d.status() : undefined));
    const items = st.detail?.items as Record<string, { status: string; error?: string }>;
    expect(items.temp!.status).toBe('ok');
    expect(items.lost!.status).toBe('error');
    expect(items.lost!.error).toContain('namespace "urn:nobody:serves:this" is not served by this server');
    expect(items.lost!.error).toContain(`3: ${EXTRA_NAMESPACES[1]}`);
    expect(st.lastError?.code).toBe('OPCUA_ITEM_REJECTED');

    // After a server restart the device recovers: still degraded by the one bad item, and the
    // error it shows is that item's, not the connection loss that is over.
    const before = h.readings.length;
    await server.restart();
    await waitFor('readings after the restart', () => h.readings.slice(before).some((r) => r.point === 'counter'), 40_000);
    const after = await waitFor('degraded again', () => (d.status().state === 'degraded' ? d.status() : undefined), 20_000);
    expect(after.lastError?.code).toBe('OPCUA_ITEM_REJECTED');
    expect(after.lastError?.message).toContain('urn:nobody:serves:this');
    await d.stop();
  }, 90_000);

  it('writes declared variables as their DataType (nsu= resolved), reads them back, and names the server\'s refusal', async () => {
    const h = harness('plc-writes');
    const cfg = device({
      id: 'plc-writes',
      items: [{ nodeId: 'ns=1;s=Setpoint', point: 'setpoint', samplingIntervalMs: 50 }],
      writes: [
        { name: 'setpoint', nodeId: 'ns=1;s=Setpoint', dataType: 'Int16' },
        { name: 'limit', nodeId: `nsu=${EXTRA_NAMESPACES[1]};s=Limit`, dataType: 'Float' },
        { name: 'counter', nodeId: 'ns=1;s=Counter', dataType: 'UInt32' },
        { name: 'setpoint.as-double', nodeId: 'ns=1;s=Setpoint', dataType: 'Double' },
      ],
    });
    const d = start(cfg, h);
    await expect(d.write!('setpoint', { action: 'write', value: 1 })).rejects.toMatchObject({ code: 'ENOTCONN' });
    await d.start();
    await waitFor('setpoint reading', () => h.readings.find((r) => r.point === 'setpoint' && r.value === 20));

    expect(await d.write!('setpoint', { action: 'write', value: -1234 })).toEqual({ readBack: -1234, expected: -1234 });
    expect(server.writableValue('setpoint')).toBe(-1234);
    await waitFor('the subscription seeing the write', () => h.readings.find((r) => r.point === 'setpoint' && r.value === -1234));

    // The plant namespace is index 3 on this server: the write resolved nsu= like a read does.
    expect(await d.write!('limit', { action: 'write', value: 21.7 })).toEqual({ readBack: 21.7, expected: 21.7 });
    expect(server.writableValue('limit')).toBe(Math.fround(21.7));

    // Values the type cannot hold exactly never reach the server.
    await expect(d.write!('setpoint', { action: 'write', value: 21.5 })).rejects.toThrow(WriteRefused);
    await expect(d.write!('setpoint', { action: 'write', value: 40_000 })).rejects.toMatchObject({ code: 'out-of-range' });
    expect(server.writableValue('setpoint')).toBe(-1234);

    // The server refuses: its StatusCode name is the error code.
    await expect(d.write!('counter', { action: 'write', value: 5 })).rejects.toMatchObject({ code: 'BadNotWritable' });
    await expect(d.write!('setpoint.as-double', { action: 'write', value: 7 })).rejects.toMatchObject({ code: 'BadTypeMismatch' });
    expect(server.writableValue('setpoint')).toBe(-1234);
    await expect(d.write!('nothing', { action: 'write', value: 1 })).rejects.toMatchObject({ code: 'not-declared' });
    await d.stop();
  });

  it('a write the server never answers fails after writeTimeoutMs and drops the connection, which is built afresh', async () => {
    const h = harness('plc-stuck');
    const cfg = device({
      id: 'plc-stuck',
      writeTimeoutMs: 300,
      items: [{ nodeId: 'ns=1;s=Counter', point: 'counter', samplingIntervalMs: 50 }],
      writes: [
        { name: 'stuck', nodeId: 'ns=1;s=Stuck', dataType: 'Int16' },
        { name: 'setpoint', nodeId: 'ns=1;s=Setpoint', dataType: 'Int16' },
      ],
    });
    const d = start(cfg, h);
    await d.start();
    await waitFor('connected', () => d.status().state === 'ok');
    const rebuildsBefore = d.status().counters.rebuilds as number;
    const t0 = Date.now();
    await expect(d.write!('stuck', { action: 'write', value: 1 })).rejects.toMatchObject({ code: 'OPCUA_WRITE_TIMEOUT' });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(d.status().counters.rebuilds).toBe(rebuildsBefore + 1);
    // A new session: readings flow again and the next write goes through.
    const before = h.readings.length;
    await waitFor('readings on the new session', () => d.status().state === 'ok' && h.readings.length > before + 2);
    expect(await d.write!('setpoint', { action: 'write', value: 77 })).toEqual({ readBack: 77, expected: 77 });
    await d.stop();
  });

  it('reports an unreachable endpoint as down/ECONNREFUSED and stops promptly', async () => {
    const port = await freeLoopbackPort();
    const h = harness('plc-gone');
    const d = start(device({ id: 'plc-gone', endpointUrl: `opc.tcp://127.0.0.1:${port}` }), h);
    await d.start();
    const err = await waitFor('connect error', () => d.status().lastError ?? undefined);
    expect(err.code).toBe('ECONNREFUSED');
    expect(d.status().state).toBe('down');
    const t0 = Date.now();
    await d.stop();
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(d.status().state).toBe('stopped');
  });

  it('SignAndEncrypt: an unknown server certificate is refused with the fix named; trusted, data flows', async () => {
    const secure = { securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256' };
    const h = harness('plc-secure');
    const strict = start(device({ id: 'plc-secure', ...secure, pkiDir: path.join(pkiDir, 'strict'), trustUnknownServerCertificate: false }), h);
    await strict.start();
    const err = await waitFor('certificate error', () => strict.status().lastError ?? undefined);
    expect(err.code).toBe('OPCUA_CERTIFICATE_REJECTED');
    expect(err.message).toContain(path.join(pkiDir, 'strict', 'rejected'));
    expect(readdirSync(path.join(pkiDir, 'strict', 'rejected')).length).toBe(1);
    await strict.stop();

    const h2 = harness('plc-secure-ok');
    const trusting = start(device({ id: 'plc-secure-ok', ...secure }), h2);
    await trusting.start();
    await waitFor('encrypted readings', () => h2.readings.filter((r) => r.point === 'counter').length >= 2);
    expect(trusting.status().state).toBe('ok');
    await trusting.stop();
  });

  it('writes its PKI only where configured (nothing under $HOME)', () => {
    expect(readdirSync(path.join(pkiDir, 'client')).length).toBeGreaterThan(0);
    expect(opcuaDirsInHome()).toEqual(homeBefore);
  });
});

describe('opcua driver when the server silently drops the subscription', () => {
  it('notices the silence and builds session + subscription afresh', async () => {
    const h = harness('plc-dropped');
    const d = start(device({ id: 'plc-dropped', items: [{ nodeId: 'ns=1;s=Counter', point: 'counter', samplingIntervalMs: 50 }] }), h);
    await d.start();
    await waitFor('counter readings', () => h.readings.filter((r) => r.point === 'counter').length >= 2);
    expect(server.dropSubscriptions()).toBeGreaterThanOrEqual(1);
    const droppedAt = Date.now();
    const fresh = await waitFor(
      'readings after the subscription was dropped',
      () => {
        const after = h.readings.filter((r) => r.point === 'counter' && r.ts > droppedAt + 500);
        return after.length >= 2 ? after : undefined;
      },
      45_000,
    );
    expect(fresh.every((r) => r.quality === 'good')).toBe(true);
    const st = d.status();
    expect(st.state).toBe('ok');
    // node-opcua itself does not recover here (measured: it keeps the dead subscription); our
    // keep-alive watchdog does, after max(15 s, 3 x publishing interval x keep-alive count).
    expect(st.counters.rebuilds).toBeGreaterThanOrEqual(1);
    expect(st.counters.connects).toBeGreaterThanOrEqual(2);
    await d.stop();
  });
});

