import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type BrokerFixture } from '../../test-rigs/broker/broker.js';
import { writeConfigDir, type ConfigDir } from '../../test-rigs/harness/config-dir.js';
import { GatewayProcess } from '../../test-rigs/harness/gateway-process.js';
import { createPtyPair, type PtyPair } from '../../test-rigs/serial/pty.js';
import { startSubscriber, type Subscriber } from '../../test-rigs/subscriber/subscriber.js';
import { weatherLine } from '../../test-rigs/scanner-sim/line-sensor.js';
import { PtyWriter } from '../../test-rigs/scanner-sim/pty-writer.js';
import { ean13, heldTicket, scanFrame } from '../../test-rigs/scanner-sim/scanner.js';

/**
 * A parking lane through the real daemon: a serial scanner and a weather station on real ptys,
 * real mosquitto, the reference subscriber. Scans must arrive as events with their lane attrs,
 * the held ticket once, the bad EAN marked invalid; the station's lines as telemetry.
 */
let broker: BrokerFixture;
let scannerPty: PtyPair;
let stationPty: PtyPair;
let config: ConfigDir;
let sub: Subscriber;
let gw: GatewayProcess | null = null;

beforeAll(async () => {
  broker = await startBroker();
  scannerPty = await createPtyPair();
  stationPty = await createPtyPair();
  const reopen = { initialDelayMs: 50, maxDelayMs: 500, watchIntervalMs: 200 };
  config = writeConfigDir({
    brokerUrls: [broker.url],
    devices: {
      'lane-1-entry-scanner': {
        type: 'barcode-serial',
        port: { path: scannerPty.a, baudRate: 9600, reopen },
        terminator: 'CR',
        site: 'P3',
        gate: 'north',
        lane: 1,
        direction: 'entry',
        validate: { checkDigit: 'ean13' },
      },
      'roof-weather': {
        type: 'serial-line',
        port: { path: stationPty.a, baudRate: 4800, reopen },
        parse: {
          kind: 'regex',
          pattern: '^WS T=(?<temp>\\S+) H=(?<hum>\\S+) W=(?<wind>\\S+) P=(?<press>\\S+)$',
          fields: { temp: { point: 'air.temp', unit: 'degC' }, press: { point: 'air.pressure', unit: 'hPa' } },
        },
      },
    },
  });
  sub = await startSubscriber({
    url: broker.url,
    prefix: config.topicPrefix,
    gatewayId: config.gatewayId,
    clientId: 'e2e-scanner',
    keepReadings: true,
  });
});

afterAll(async () => {
  await gw?.stop();
  await sub?.stop();
  await scannerPty?.close();
  await stationPty?.close();
  await broker?.dispose();
  if (config) rmSync(config.dir, { recursive: true, force: true });
});

describe('scanner and line sensor end to end (real daemon, real mosquitto, real ptys)', () => {
  it('delivers scans as events with lane attrs and station lines as telemetry', async () => {
    gw = GatewayProcess.start(config.dir);
    await gw.ready();
    const scanner = new PtyWriter(scannerPty.b);
    const station = new PtyWriter(stationPty.b);
    try {
      const ticket = ean13('400638133393');
      await scanner.write(heldTicket({ code: ticket, aim: ']E0', terminator: '\r' }, 4));
      await scanner.write(scanFrame({ code: '4006381333932', terminator: '\r' }));
      await station.write(weatherLine({ tempC: 7.5, humidityPct: 90, windMs: 4, pressureHpa: 998.2 }) + '\r\n');

      const scansOf = (rs: typeof sub.readings) => rs.filter((r) => r.device === 'lane-1-entry-scanner' && r.point === 'scan');
      await sub.waitFor((s) => scansOf(s.readings).length >= 2 && s.readings.some((r) => r.point === 'air.pressure'), 20_000);
      const scans = scansOf(sub.readings);
      expect(scans).toHaveLength(2);
      // The scanner's state reaches the central side too (gateway/state-watch.ts).
      await sub.waitFor((s) => s.readings.some((r) => r.device === 'lane-1-entry-scanner' && r.point === 'state' && r.value === 'ok'), 20_000);
      expect(scans[0]).toMatchObject({
        topic: 'events',
        kind: 'event',
        point: 'scan',
        value: ticket,
        attrs: { site: 'P3', gate: 'north', lane: 1, direction: 'entry', symbology: 'ean13', valid: true },
      });
      expect(scans[1]).toMatchObject({ value: '4006381333932', attrs: { valid: false, invalidReason: 'ean13: bad check digit' } });
      const weather = sub.readings.filter((r) => r.device === 'roof-weather' && r.point !== 'state');
      expect(weather.map((r) => [r.topic, r.point, r.value, r.unit])).toEqual([
        ['telemetry', 'air.temp', 7.5, 'degC'],
        ['telemetry', 'air.pressure', 998.2, 'hPa'],
      ]);
      expect(sub.counters.malformed).toBe(0);
    } finally {
      await scanner.close();
      await station.close();
    }
    const exit = await gw.stop();
    expect(exit.code).toBe(0);
  }, 60_000);
});
