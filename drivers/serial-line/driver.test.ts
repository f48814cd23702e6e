import { describe, expect, it } from 'vitest';
import { recordingContext } from '../../test-rigs/driver-contract.js';
import { pollRecords, publishedBatch } from '../../test-rigs/v2-batch.js';
import type { DriverReading } from '../../gateway/model/reading.js';
import { encodeReading } from '../../gateway/payload/encode.js';
import { compileLineParser } from './parse/compile.js';
import { capturingContext } from '../../test-rigs/serial/capture-context.js';
import type { PtyPair } from '../../test-rigs/serial/pty.js';
import { ptySessionPerTest } from '../../test-rigs/serial/pty-session.js';
import { waitUntil } from '../../test-rigs/serial/wait-until.js';
import { gprmc, nmeaSentence, weatherLine } from '../../test-rigs/scanner-sim/line-sensor.js';
import type { PtyWriter } from '../../test-rigs/scanner-sim/pty-writer.js';
import { garbage } from '../../test-rigs/scanner-sim/scanner.js';
import type { Driver } from '../driver.js';
import { createSerialLineDriver } from './driver.js';
import { serialLineDeviceSchema } from './schema.js';

const reopen = { initialDelayMs: 20, maxDelayMs: 200, watchIntervalMs: 50 };

describe('serial-line driver over a real pty', () => {
  const session = ptySessionPerTest();
  let pair: PtyPair;
  let writer: PtyWriter;
  let driver: Driver;

  it('parses a weather station, counts garbage and overlong lines, and never stops reading', async () => {
    ({ pair, writer } = await session.open());
    const cfg = serialLineDeviceSchema.parse({
      id: 'ws-1',
      type: 'serial-line',
      port: { path: pair.a, baudRate: 19200, reopen },
      maxLineBytes: 128,
      parse: {
        kind: 'regex',
        pattern: '^WS T=(?<temp>\\S+) H=(?<hum>\\S+) W=(?<wind>\\S+) P=(?<press>\\S+)$',
        fields: { temp: { unit: 'degC' }, hum: { unit: '%' }, wind: { unit: 'm/s' }, press: { unit: 'hPa' } },
      },
    });
    const ctx = capturingContext('ws-1');
    driver = session.track(createSerialLineDriver(cfg, ctx));
    await driver.start();
    expect(driver.status().state).toBe('ok');

    await writer.write(weatherLine({ tempC: 21.5, humidityPct: 48, windMs: 3.2, pressureHpa: 1013.2 }) + '\r\n');
    await writer.write(garbage(50, 7));
    await writer.write('\r\n');
    await writer.write('Q'.repeat(10_000));
    await writer.write('\r\nnot a weather line\r\n');
    await writer.write(weatherLine({ tempC: 22, humidityPct: 47, windMs: 0, pressureHpa: 1013 }) + '\r\n');
    await waitUntil(() => ctx.readings.length === 8, 5_000, 'two samples of four readings');

    expect(ctx.readings.slice(0, 4).map((r) => [r.point, r.value, r.unit, r.kind])).toEqual([
      ['temp', 21.5, 'degC', 'telemetry'],
      ['hum', 48, '%', 'telemetry'],
      ['wind', 3.2, 'm/s', 'telemetry'],
      ['press', 1013.2, 'hPa', 'telemetry'],
    ]);
    const s = driver.status();
    expect(s.counters).toMatchObject({ readings: 8, unparsed: 2, overlongLines: 1, opens: 1 });
    expect(s.lastGoodTs).not.toBeNull();
    expect(ctx.logs.some((l) => l.code === 'LINE_TOO_LONG')).toBe(true);
  });

  it('verifies NMEA checksums, survives an unplug and reads again after replug', async () => {
    ({ pair, writer } = await session.open());
    const cfg = serialLineDeviceSchema.parse({
      id: 'gps',
      type: 'serial-line',
      port: { path: pair.a, baudRate: 4800, reopen },
      parse: { kind: 'nmea', sentences: { RMC: [{ field: 3, point: 'lat', type: 'latitude' }] } },
    });
    const ctx = capturingContext('gps');
    driver = session.track(createSerialLineDriver(cfg, ctx));
    await driver.start();

    await writer.write(nmeaSentence(gprmc({ lat: 52.5, lon: 13.4, knots: 0 }), { corrupt: true }) + '\r\n');
    await writer.write(nmeaSentence(gprmc({ lat: 52.5, lon: 13.4, knots: 0 })) + '\r\n');
    await waitUntil(() => ctx.readings.length === 1, 5_000, 'the good fix');
    expect(ctx.readings[0]?.value).toBeCloseTo(52.5, 6);
    expect(driver.status().counters.checksumErrors).toBe(1);

    await writer.close();
    await pair.unplug();
    await waitUntil(() => driver!.status().state === 'down', 5_000, 'state down after unplug');
    expect(driver.status().lastError?.code).toMatch(/^SERIAL_(UNPLUGGED|NOT_FOUND)$/);

    await pair.replug();
    await waitUntil(() => driver!.status().state === 'ok', 5_000, 'state ok after replug');
    await writer.write(nmeaSentence(gprmc({ lat: -33.9, lon: 151.2, knots: 0 })) + '\r\n');
    await waitUntil(() => ctx.readings.length === 2, 5_000, 'a fix after replug');
    expect(ctx.readings[1]?.value).toBeCloseTo(-33.9, 6);
    expect(driver.status().counters).toMatchObject({ unplugs: 1, reopens: 1 });
  });

  it('hands a line\'s good numbers and booleans over packed: the same readings the parser gives, as v2 poll records', async () => {
    ({ pair, writer } = await session.open());
    const cfg = serialLineDeviceSchema.parse({
      id: 'ws-2',
      type: 'serial-line',
      port: { path: pair.a, reopen },
      parse: {
        kind: 'regex',
        pattern: '^WS T=(?<temp>\\S+) H=(?<hum>\\S+) ID=(?<id>\\S+) OK=(?<ok>\\S+)$',
        fields: { temp: { point: 'air.temp', unit: 'Cel' }, hum: { unit: '%', scale: 0.1 }, id: { type: 'string' }, ok: { type: 'bool' } },
      },
    });
    const rec = recordingContext('ws-2', { packed: true });
    driver = session.track(createSerialLineDriver(cfg, rec.ctx));
    await driver.start();
    const lines = ['WS T=21.5 H=480 ID=north OK=on', 'WS T=-- H=470 ID=north OK=off'];
    // One at a time, so each line gets its own read time.
    await writer.write(`${lines[0]}\r\n`);
    await waitUntil(() => rec.readings().length === 4, 5_000, 'the first line');
    await new Promise((r) => setTimeout(r, 5));
    await writer.write(`${lines[1]}\r\n`);
    await waitUntil(() => rec.readings().length === 7, 5_000, 'both lines');

    // What the driver emitted before packing: the parser's readings, one emit per line.
    const parse = compileLineParser(cfg.parse);
    const packedTs = [...new Set(rec.readings().map((r) => r.ts))];
    expect(packedTs).toHaveLength(2);
    const before = lines.flatMap((line, i) => {
      const r = parse(line, packedTs[i]!);
      return r.kind === 'readings' ? r.readings : [];
    });
    const wire = (rs: readonly DriverReading[]) => rs.map((r) => encodeReading({ ...r, device: 'ws-2' }, 1, false)).sort();
    expect(wire(rec.readings())).toEqual(wire(before));
    // The numbers and the boolean of each line went packed (the second line without its bad temp); the string as a reading.
    expect(rec.packedBatches()).toBe(2);
    expect(rec.batches.filter((b) => b.length === 1 && b[0]!.point === 'id')).toHaveLength(2);

    const v2 = publishedBatch(rec.committed(), 2);
    expect(pollRecords(v2).map((r) => r.values)).toEqual([
      [21.5, 48, true],
      [47, false],
    ]);
    expect(Object.values(v2.raw.layouts ?? {}).map((l) => l.points)).toEqual([
      ['air.temp', 'hum', 'ok'],
      ['hum', 'ok'],
    ]);
    expect(v2.readings).toEqual(publishedBatch(rec.committed(), 1).readings);
  });

  it('rejects unknown keys and a relative port path at config load', () => {
    const base = { id: 'x', type: 'serial-line', port: { path: '/dev/ttyS0' }, parse: { kind: 'delimited', fields: [{ index: 0, point: 'a' }] } };
    expect(serialLineDeviceSchema.safeParse(base).success).toBe(true);
    expect(serialLineDeviceSchema.safeParse({ ...base, baud: 9600 }).success).toBe(false);
    expect(serialLineDeviceSchema.safeParse({ ...base, port: { path: 'ttyS0' } }).success).toBe(false);
  });
});
