import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { capturingContext, type CapturingContext } from '../../test-rigs/serial/capture-context.js';
import type { PtyPair } from '../../test-rigs/serial/pty.js';
import { ptySessionPerTest } from '../../test-rigs/serial/pty-session.js';
import { waitUntil } from '../../test-rigs/serial/wait-until.js';
import { gprmc, nmeaSentence } from '../../test-rigs/scanner-sim/line-sensor.js';
import type { PtyWriter } from '../../test-rigs/scanner-sim/pty-writer.js';
import { formatProblem, loadConfig } from '../../gateway/config/load.js';
import type { Driver } from '../driver.js';
import { createSerialLineDriver } from './driver.js';
import { serialLineDriver } from './module.js';
import { serialLineDeviceSchema } from './schema.js';

/** Issue #16: an NMEA talker and a line sensor as they behave in the field, over a real pty. */
const reopen = { initialDelayMs: 20, maxDelayMs: 200, watchIntervalMs: 50 };
const rmcFields = [
  { field: 7, point: 'gps.speed', unit: 'kn' },
  { field: 8, point: 'gps.course', unit: 'deg' },
];

describe('serial-line in the field (issue #16, real pty)', () => {
  const session = ptySessionPerTest();
  let pair: PtyPair;
  let writer: PtyWriter;
  let driver: Driver;

  async function talker(extra: Record<string, unknown>, parse: Record<string, unknown> = {}): Promise<{ ctx: CapturingContext; w: PtyWriter; d: Driver }> {
    ({ pair, writer } = await session.open());
    const cfg = serialLineDeviceSchema.parse({
      id: 'gps',
      type: 'serial-line',
      port: { path: pair.a, baudRate: 4800, reopen },
      parse: { kind: 'nmea', sentences: { RMC: rmcFields }, ...parse },
      ...extra,
    });
    const ctx = capturingContext('gps');
    driver = session.track(createSerialLineDriver(cfg, ctx));
    await driver.start();
    return { ctx, w: writer, d: driver };
  }

  it('a sentence cut off without its ending does not take the next good one with it (resync on $)', async () => {
    const { ctx, w, d } = await talker({});
    const good = nmeaSentence(gprmc({ lat: 48.1173, lon: 11.5167, knots: 22.4 }));
    const cut = good.slice(0, 30);
    await w.write(`${cut}${good}\r\n`);
    await waitUntil(() => ctx.readings.length >= 2, 5_000, 'readings from the good sentence');
    expect(ctx.readings.map((r) => [r.point, r.value, r.quality])).toEqual([
      ['gps.speed', 22.4, 'good'],
      ['gps.course', 84.4, 'good'],
    ]);
    expect(d.status().counters).toMatchObject({ checksumErrors: 0, fragmentsDiscarded: 1, bytesDiscarded: 30 });
  });

  it('values from an RMC with status V (no fix) are uncertain, not good', async () => {
    const { ctx, w } = await talker({});
    await w.write(nmeaSentence('GPRMC,123519,V,,,,,0.0,271.3,230394,,') + '\r\n');
    await waitUntil(() => ctx.readings.length >= 2, 5_000, 'readings from the no-fix sentence');
    expect(ctx.readings.map((r) => [r.point, r.value, r.quality])).toEqual([
      ['gps.speed', 0, 'uncertain'],
      ['gps.course', 271.3, 'uncertain'],
    ]);
  });

  it('with noFix: drop, a sentence without a fix sends nothing and is counted', async () => {
    const { ctx, w, d } = await talker({}, { noFix: 'drop' });
    await w.write(nmeaSentence('GPRMC,123519,V,,,,,0.0,271.3,230394,,') + '\r\n');
    await w.write(nmeaSentence(gprmc({ lat: 48.1173, lon: 11.5167, knots: 3 })) + '\r\n');
    await waitUntil(() => ctx.readings.length >= 2, 5_000, 'readings from the sentence with a fix');
    expect(ctx.readings.map((r) => [r.value, r.quality])).toEqual([
      [3, 'good'],
      [84.4, 'good'],
    ]);
    expect(d.status().counters).toMatchObject({ noFixDropped: 1 });
  });

  it('takes CR, LF and CRLF by default, like a scanner', async () => {
    const { ctx, w } = await talker({});
    const a = nmeaSentence(gprmc({ lat: 1, lon: 2, knots: 1 }));
    const b = nmeaSentence(gprmc({ lat: 1, lon: 2, knots: 2 }));
    const c = nmeaSentence(gprmc({ lat: 1, lon: 2, knots: 3 }));
    await w.write(`${a}\r${b}\n${c}\r\n`);
    await waitUntil(() => ctx.readings.length >= 6, 5_000, 'three sentences');
    expect(ctx.readings.filter((r) => r.point === 'gps.speed').map((r) => r.value)).toEqual([1, 2, 3]);
  });
});

describe('serial-line line ending option', () => {
  it('reads the old name delimiter and warns at config load that it is deprecated', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edge-delim-'));
    try {
      writeFileSync(join(dir, 'gateway.yaml'), 'gateway: { id: gw-1 }\nmqtt: { urls: ["mqtt://127.0.0.1:1883"] }\noutbox: { path: ./outbox.db }\n');
      mkdirSync(join(dir, 'devices'));
      writeFileSync(
        join(dir, 'devices', 'ws.yaml'),
        'type: serial-line\nport: { path: /dev/ttyS0 }\ndelimiter: CRLF\nparse: { kind: regex, pattern: "^(?<t>.*)$", fields: { t: { point: t } } }\n',
      );
      const c = loadConfig(dir);
      expect(c.warnings.map(formatProblem)).toEqual(['devices/ws.yaml:3: delimiter: delimiter is deprecated: rename it to terminator (the same option scanners use); it is still read']);
      expect(c.devices[0]).toMatchObject({ delimiter: 'CRLF' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a file that sets both terminator and its old name', () => {
    const cfg = serialLineDeviceSchema.parse({
      id: 'ws',
      type: 'serial-line',
      port: { path: '/dev/ttyS0' },
      terminator: 'LF',
      delimiter: 'CRLF',
      parse: { kind: 'regex', pattern: '^(?<t>.*)$', fields: { t: { point: 't' } } },
    });
    expect(serialLineDriver.checkDevices([cfg])).toEqual([{ device: 'ws', path: ['delimiter'], message: 'give only terminator: delimiter is its old name' }]);
  });
});
