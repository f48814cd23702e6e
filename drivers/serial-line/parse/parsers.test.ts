import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gprmc, nmeaSentence, weatherLine, wimda } from '../../../test-rigs/scanner-sim/line-sensor.js';
import { compileLineParser, lineParseSchema } from './compile.js';
import { nmeaChecksum } from './nmea.js';

const TS = 1_700_000_000_000;

const weather = lineParseSchema.parse({
  kind: 'regex',
  pattern: '^WS T=(?<temp>\\S+) H=(?<hum>\\S+) W=(?<wind>\\S+) P=(?<press>\\S+)$',
  fields: {
    temp: { point: 'air.temp', unit: 'degC' },
    hum: { point: 'air.humidity', unit: '%' },
    wind: { point: 'wind.speed', unit: 'km/h', scale: 3.6 },
    press: { point: 'air.pressure', unit: 'hPa' },
  },
});

const counter = lineParseSchema.parse({
  kind: 'delimited',
  startsWith: 'CNT,',
  fields: [
    { index: 1, point: 'lane', type: 'string' },
    { index: 2, point: 'vehicles' },
    { index: 3, point: 'speed', unit: 'km/h' },
  ],
});

const nmea = lineParseSchema.parse({
  kind: 'nmea',
  sentences: {
    GPRMC: [
      { field: 2, point: 'gps.fix', type: 'string' },
      { field: 3, point: 'gps.lat', type: 'latitude' },
      { field: 5, point: 'gps.lon', type: 'longitude' },
      { field: 7, point: 'gps.speed', unit: 'km/h', scale: 1.852 },
    ],
    MDA: [{ field: 5, point: 'air.temp', unit: 'degC' }],
  },
});

describe('regex parser', () => {
  const parse = compileLineParser(weather);

  it('turns named groups into scaled, united telemetry', () => {
    const r = parse(weatherLine({ tempC: -3.5, humidityPct: 81, windMs: 2, pressureHpa: 1009.8 }), TS);
    expect(r).toEqual({
      kind: 'readings',
      badFields: [],
      readings: [
        { point: 'air.temp', value: -3.5, unit: 'degC', quality: 'good', ts: TS, kind: 'telemetry' },
        { point: 'air.humidity', value: 81, unit: '%', quality: 'good', ts: TS, kind: 'telemetry' },
        { point: 'wind.speed', value: 7.2, unit: 'km/h', quality: 'good', ts: TS, kind: 'telemetry' },
        { point: 'air.pressure', value: 1009.8, unit: 'hPa', quality: 'good', ts: TS, kind: 'telemetry' },
      ],
    });
  });

  it('keeps the good fields of a line with a faulted sensor and names the bad one', () => {
    const r = parse('WS T=21.0 H=--- W=0x1F P=1e999', TS);
    expect(r.kind).toBe('readings');
    if (r.kind !== 'readings') return;
    expect(r.readings.map((x) => x.point)).toEqual(['air.temp']);
    expect(r.badFields).toEqual(['air.humidity', 'wind.speed', 'air.pressure']);
  });

  it('classifies a non-matching line as unparsed', () => {
    expect(parse('hello', TS)).toEqual({ kind: 'unparsed', reason: 'line does not match pattern' });
  });

  it('rejects a config naming a group the pattern lacks, and a broken pattern', () => {
    const missing = lineParseSchema.safeParse({ kind: 'regex', pattern: '(?<a>\\d+)', fields: { b: {} } });
    expect(missing.success).toBe(false);
    expect(JSON.stringify(missing.error?.issues)).toMatch(/no named group \(\?<b>/);
    const broken = lineParseSchema.safeParse({ kind: 'regex', pattern: '(?<a>\\d+', fields: { a: {} } });
    expect(JSON.stringify(broken.error?.issues)).toMatch(/invalid regular expression/);
    expect(lineParseSchema.safeParse({ kind: 'regex', pattern: '(?<a>.)', fields: { a: {} }, extra: 1 }).success).toBe(false);
  });
});

describe('delimited parser', () => {
  const parse = compileLineParser(counter);

  it('reads columns by index', () => {
    const r = parse('CNT,2,17,48.5', TS);
    expect(r.kind === 'readings' && r.readings.map((x) => [x.point, x.value])).toEqual([
      ['lane', '2'],
      ['vehicles', 17],
      ['speed', 48.5],
    ]);
  });

  it('ignores other line types and flags missing columns', () => {
    expect(parse('HELLO', TS)).toEqual({ kind: 'ignored' });
    const r = parse('CNT,2', TS);
    expect(r.kind === 'readings' && r.badFields).toEqual(['vehicles', 'speed']);
  });
});

describe('nmea parser', () => {
  const parse = compileLineParser(nmea);

  it('checks the checksum and decodes coordinates to signed degrees', () => {
    const r = parse(nmeaSentence(gprmc({ lat: 48.1173, lon: -11.5167, knots: 10 })), TS);
    expect(r.kind).toBe('readings');
    if (r.kind !== 'readings') return;
    const byPoint = Object.fromEntries(r.readings.map((x) => [x.point, x.value]));
    expect(byPoint['gps.fix']).toBe('A');
    expect(byPoint['gps.lat']).toBeCloseTo(48.1173, 4);
    expect(byPoint['gps.lon']).toBeCloseTo(-11.5167, 4);
    expect(byPoint['gps.speed']).toBeCloseTo(18.52, 6);
  });

  it('matches a sentence type for any talker', () => {
    const r = parse(nmeaSentence(wimda({ pressureBar: 1.0132, airTempC: 12.5 })), TS);
    expect(r.kind === 'readings' && r.readings[0]?.value).toBe(12.5);
  });

  it('drops bad, missing and malformed checksums; ignores unconfigured sentences', () => {
    expect(parse(nmeaSentence(gprmc({ lat: 1, lon: 1, knots: 1 }), { corrupt: true }), TS).kind).toBe('checksum');
    expect(parse('$GPRMC,1,2,3', TS)).toEqual({ kind: 'checksum', reason: 'checksum missing' });
    expect(parse('$GPRMC,1*ZZ', TS).kind).toBe('checksum');
    expect(parse(nmeaSentence('GPGSV,1,1,00'), TS)).toEqual({ kind: 'ignored' });
    expect(parse('garbage', TS).kind).toBe('unparsed');
  });

  it('computes the textbook checksum', () => {
    // The classic example sentence from the NMEA 0183 literature.
    expect(nmeaChecksum('GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,')).toBe('47');
  });
});

describe('all parsers under arbitrary input', () => {
  const parsers = [weather, counter, nmea].map(compileLineParser);
  const line = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')),
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('utf8')),
    fc.string({ maxLength: 200 }).map((s) => `$GPRMC,${s}`),
    fc.string({ maxLength: 200 }).map((s) => nmeaSentence(`GPRMC,${s}`)),
    fc.array(fc.oneof(fc.float(), fc.string({ maxLength: 8 })), { maxLength: 8 }).map((a) => `CNT,${a.join(',')}`),
  );

  it('never throw and only ever emit finite numbers, strings or booleans', () => {
    fc.assert(
      fc.property(line, (l) => {
        for (const p of parsers) {
          const r = p(l, TS);
          expect(['readings', 'unparsed', 'checksum', 'ignored']).toContain(r.kind);
          if (r.kind === 'readings') {
            expect(r.readings.length).toBeGreaterThan(0);
            for (const x of r.readings) {
              if (typeof x.value === 'number') expect(Number.isFinite(x.value)).toBe(true);
              else expect(['string', 'boolean']).toContain(typeof x.value);
            }
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
