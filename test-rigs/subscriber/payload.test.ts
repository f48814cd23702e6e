import { describe, expect, it } from 'vitest';
import type { Reading } from '../../gateway/model/reading.js';
import { encodeReading } from '../../gateway/payload/encode.js';
import { parseBatch, type LayoutLog } from './payload.js';
import { SeqTracker } from './seq-tracker.js';
import { V2_EXAMPLE_LAYOUT, v2Example } from './v2-example.js';

const GW = 'main-5th';
const LAYOUT = V2_EXAMPLE_LAYOUT;


const parse = (batch: unknown, log?: LayoutLog) => parseBatch(Buffer.from(JSON.stringify(batch)), GW, log);

function reasonOf(batch: unknown): string {
  const parsed = parse(batch);
  return parsed.ok ? 'accepted' : parsed.reason;
}

/** The same readings as the gateway writes them in a v1 batch (its own encoder, its field order). */
function v1Batch(readings: Array<{ seq: number; reading: Reading; unsynced?: boolean }>, batch = 'v1-batch'): Buffer {
  const bodies = readings.map((r) => encodeReading(r.reading, r.seq, r.unsynced ?? false));
  const seqs = readings.map((r) => r.seq);
  return Buffer.from(
    `{"v":1,"gateway":"${GW}","outbox":"3f0c6a52-8d0e-4d7e-9a51-0c1d8c7e4b1a","batch":"${batch}","firstSeq":${seqs[0]},` +
      `"lastSeq":${seqs.at(-1)},"count":${seqs.length},"sentAt":1764061200123,"readings":[${bodies.join(',')}]}`,
  );
}

describe('parseBatch, v2 poll records', () => {
  it('expands the documented example into the seven readings it stands for', () => {
    const parsed = parse(v2Example());
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(parsed.value).toMatchObject({ v: 2, count: 7, firstSeq: 1001, lastSeq: 1007 });
    expect(parsed.value).not.toHaveProperty('layouts');
    expect(parsed.value.readings).toEqual([
      { seq: 1001, device: 'signal-controller', point: 'det1.count', unit: 'vehicles', value: 17, quality: 'good', ts: 1764061200050 },
      { seq: 1002, device: 'signal-controller', point: 'det2.count', unit: 'vehicles', value: 4, quality: 'good', ts: 1764061200050 },
      { seq: 1003, device: 'signal-controller', point: 'cabinet.temp', unit: 'degC', value: 31.5, quality: 'good', ts: 1764061200050 },
      { seq: 1004, device: 'signal-controller', point: 'lamp.fault', value: null, quality: 'bad', ts: 1764061200050 },
      { seq: 1005, device: 'signal-controller', point: 'det1.count', unit: 'vehicles', value: 18, quality: 'good', ts: 1764061200150, clock: 'unsynced' },
      { seq: 1006, device: 'signal-controller', point: 'det2.count', unit: 'vehicles', value: 4, quality: 'good', ts: 1764061200150, clock: 'unsynced' },
      { seq: 1007, device: 'signal-controller', point: 'cabinet.temp', unit: 'degC', value: 31.5, quality: 'good', ts: 1764061200150, clock: 'unsynced' },
    ]);
  });

  it('accepts a batch of records only, of v1 readings only (no layouts), and units absent or partly null', () => {
    const [first, , second] = v2Example().readings;
    const recordsOnly = { ...v2Example(), readings: [first, { ...second, seq: 1004 }], count: 6, lastSeq: 1006 };
    expect(reasonOf(recordsOnly)).toBe('accepted');

    const readingsOnly = { ...v2Example(), firstSeq: 1004, lastSeq: 1004, count: 1, readings: [v2Example().readings[1]] };
    delete readingsOnly.layouts;
    expect(reasonOf(readingsOnly)).toBe('accepted');

    const partlyNull = v2Example();
    partlyNull.layouts![LAYOUT]!.units = ['vehicles', null, 'degC'];
    const p = parse(partlyNull);
    expect(p.ok && p.value.readings[1]).toEqual({ seq: 1002, device: 'signal-controller', point: 'det2.count', value: 4, quality: 'good', ts: 1764061200050 });

    const noUnits = v2Example();
    delete noUnits.layouts![LAYOUT]!.units;
    const n = parse(noUnits);
    expect(n.ok && n.value.readings.map((r) => 'unit' in r)).toEqual([false, false, false, false, false, false, false]);
  });

  it('rejects each malformed v2 batch with the reason', () => {
    const cases: Array<[string, (b: ReturnType<typeof v2Example>) => void, string]> = [
      ['missing layout', (b) => (b.readings[2] = { ...b.readings[2], layout: 'aaaaaaaaaaaa' }), 'readings.2: layout aaaaaaaaaaaa is not in layouts'],
      ['no layouts at all', (b) => delete b.layouts, `readings.0: layout ${LAYOUT} is not in layouts`],
      ['unreferenced layout', (b) => (b.layouts!.bbbbbbbbbbbb = { device: 'd', points: ['p'] }), 'layouts bbbbbbbbbbbb referenced by no poll record'],
      ['too few values', (b) => (b.readings[2] = { ...b.readings[2], values: [18, 4] }), `readings.2: 2 values for layout ${LAYOUT} of 3 points`],
      ['units length', (b) => (b.layouts![LAYOUT]!.units = ['vehicles']), `layouts.${LAYOUT}: 1 units for 3 points`],
      ['units all null', (b) => (b.layouts![LAYOUT]!.units = [null, null, null]), 'units present but all null'],
      ['layout id not hex', (b) => (b.layouts = { '5D1F0C9A7E21': b.layouts![LAYOUT]! }), 'layouts.5D1F0C9A7E21: Invalid key in record: layout id must be 12 lowercase hex'],
      ['empty layout', (b) => (b.layouts![LAYOUT]!.points = []), `layouts.${LAYOUT}.points`],
      ['string value', (b) => (b.readings[0] = { ...b.readings[0], values: [17, 'x', 31.5] }), 'readings.0.values.1'],
      ['record without values', (b) => delete b.readings[0]!.values, 'readings.0.values'],
      ['record overlaps reading', (b) => (b.readings[1] = { ...b.readings[1], seq: 1003 }), 'seq 1003 follows 1003 (must ascend)'],
      ['count of items, not readings', (b) => (b.count = 3), 'count 3 but 7 readings'],
      ['lastSeq of the record, not its last value', (b) => (b.lastSeq = 1005), 'firstSeq/lastSeq 1001/1005 but readings span 1001..1007'],
      ['unknown version', (b) => (b.v = 3), 'v: 3 is not a payload version this subscriber reads'],
    ];
    for (const [name, breakIt, reason] of cases) {
      const b = v2Example();
      breakIt(b);
      expect(reasonOf(b), name).toContain(reason);
    }
    const layoutsWithoutRecords = { ...v2Example(), firstSeq: 1004, lastSeq: 1004, count: 1, readings: [v2Example().readings[1]] };
    expect(reasonOf(layoutsWithoutRecords)).toContain('layouts present but no poll record');
  });

  it('rejects a layout id that changes meaning between batches (ids are content hashes)', () => {
    const log: LayoutLog = new Map();
    expect(parse(v2Example(), log).ok).toBe(true);
    const renamed = v2Example();
    renamed.layouts![LAYOUT]!.points = ['det1.count', 'det2.count', 'cabinet.temperature'];
    const parsed = parse(renamed, log);
    expect(parsed.ok ? 'accepted' : parsed.reason).toContain(`layout ${LAYOUT} is {"device"`);
    // The same layout again is fine, and a rejected batch did not replace the first meaning.
    expect(parse(v2Example(), log).ok).toBe(true);
  });

  it('counts the same seqs sent as v1 and again as v2 (switch with redelivery) as duplicates, not reused', () => {
    const point = (name: string, value: number, unit?: string): Reading => ({
      device: 'signal-controller', point: name, value, quality: 'good', ts: 1764061200050, ...(unit ? { unit } : {}),
    });
    const v1 = parseBatch(
      v1Batch([
        { seq: 1001, reading: point('det1.count', 17, 'vehicles') },
        { seq: 1002, reading: point('det2.count', 4) },
        { seq: 1003, reading: point('cabinet.temp', 31.5, 'degC'), unsynced: false },
        { seq: 1004, reading: { device: 'signal-controller', point: 'lamp.fault', value: null, quality: 'bad', ts: 1764061200050 } },
      ]),
      GW,
    );
    const v2 = v2Example();
    v2.layouts![LAYOUT]!.units = ['vehicles', null, 'degC'];
    v2.readings = v2.readings.slice(0, 2);
    Object.assign(v2, { lastSeq: 1004, count: 4, batch: 'v2-redelivered' });
    const again = parse(v2);
    if (!v1.ok || !again.ok) throw new Error(`${!v1.ok ? v1.reason : ''} ${!again.ok ? again.reason : ''}`);

    const t = new SeqTracker();
    t.acceptReadings(v1.value.readings, v1.value.batch);
    expect(t.acceptReadings(again.value.readings, again.value.batch)).toBe(4);
    expect(t.summary()).toMatchObject({ received: 4, duplicates: 4, reused: 0 });

    // And the other way round, with a changed value: that one is reused.
    const changed = v2Example();
    changed.layouts![LAYOUT]!.units = ['vehicles', null, 'degC'];
    changed.readings = [{ ...changed.readings[0], values: [17, 5, 31.5] }];
    Object.assign(changed, { lastSeq: 1003, count: 3, batch: 'v2-other' });
    const other = parse(changed);
    if (!other.ok) throw new Error(other.reason);
    t.acceptReadings(other.value.readings, other.value.batch);
    expect(t.reusedSeqs()).toEqual([{ seq: 1002, batch: 'v2-other' }]);
  });

  it('still reads v1 batches as before', () => {
    const parsed = parseBatch(v1Batch([{ seq: 7, reading: { device: 'd', point: 'p', value: 1, quality: 'good', ts: 5 }, unsynced: true }]), GW);
    expect(parsed.ok && parsed.value).toMatchObject({ v: 1, readings: [{ seq: 7, device: 'd', point: 'p', value: 1, quality: 'good', ts: 5, clock: 'unsynced' }] });
  });
});
