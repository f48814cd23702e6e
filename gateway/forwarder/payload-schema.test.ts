import { describe, expect, it } from 'vitest';
import { anyBatchPayloadSchema, batchPayloadSchema, batchPayloadV2Schema, checkBatchInvariants, type AnyBatchPayload } from './payload-schema.js';
import { v2Example, type V2Example } from '../../test-rigs/subscriber/v2-example.js';

/** The docs example, with its layouts present (as the example has them). */
const specExample = () => v2Example() as V2Example & { layouts: Record<string, Record<string, unknown>> };

function invariants(raw: unknown): string[] {
  return checkBatchInvariants(anyBatchPayloadSchema.parse(raw) as AnyBatchPayload);
}

describe('v2 batch contract', () => {
  it('accepts the documented example, by the v2 schema and by the union, with no invariant broken', () => {
    expect(batchPayloadV2Schema.safeParse(specExample()).success).toBe(true);
    expect(batchPayloadSchema.safeParse(specExample()).success).toBe(false);
    expect(invariants(specExample())).toEqual([]);
  });

  it('accepts a v2 batch of v1 readings only, without layouts, and a layout with some units null', () => {
    const b = specExample();
    const onlyReadings = { ...b, firstSeq: 1004, lastSeq: 1004, count: 1, layouts: undefined, readings: [b.readings[1]] };
    delete onlyReadings.layouts;
    expect(invariants(onlyReadings)).toEqual([]);
    const someNull = specExample();
    someNull.layouts['5d1f0c9a7e21']!.units = ['vehicles', null, 'degC'];
    expect(invariants(someNull)).toEqual([]);
    const noUnits = specExample();
    delete noUnits.layouts['5d1f0c9a7e21']!.units;
    expect(invariants(noUnits)).toEqual([]);
  });

  it('rejects by schema: extra fields on a record, a bad layout id, non-number values, an empty layout', () => {
    const extra = specExample();
    extra.readings[0] = { ...extra.readings[0], quality: 'good' };
    const badId = specExample();
    badId.readings[0] = { ...badId.readings[0], layout: '5D1F0C9A7E21' };
    badId.layouts = { '5D1F0C9A7E21': badId.layouts['5d1f0c9a7e21']! };
    const text = specExample();
    text.readings[0] = { ...text.readings[0], values: [17, 'x', 31.5] };
    const empty = specExample();
    empty.layouts['5d1f0c9a7e21']!.points = [];
    for (const bad of [extra, badId, text, empty]) expect(anyBatchPayloadSchema.safeParse(bad).success).toBe(false);
  });

  it('reports each broken invariant, with where', () => {
    const missing = specExample();
    missing.readings[2] = { ...missing.readings[2], layout: 'aaaaaaaaaaaa' };
    expect(invariants(missing)).toEqual([
      'readings[2]: layout aaaaaaaaaaaa is not in layouts',
    ]);

    const unreferenced = specExample();
    unreferenced.layouts['bbbbbbbbbbbb'] = { device: 'd', points: ['p'] };
    expect(invariants(unreferenced)).toEqual(['layouts.bbbbbbbbbbbb: referenced by no poll record']);

    const layoutsWithoutRecords = { ...specExample(), firstSeq: 1004, lastSeq: 1004, count: 1, readings: [specExample().readings[1]] };
    expect(invariants(layoutsWithoutRecords)).toEqual([
      'layouts present but no poll record in readings',
      'layouts.5d1f0c9a7e21: referenced by no poll record',
    ]);

    const short = specExample();
    short.readings[2] = { ...short.readings[2], values: [18, 4] };
    short.count = 6;
    short.lastSeq = 1006;
    expect(invariants(short)).toEqual(['readings[2]: 2 values for layout 5d1f0c9a7e21 of 3 points']);

    const units = specExample();
    units.layouts['5d1f0c9a7e21']!.units = ['vehicles', 'degC'];
    expect(invariants(units)).toEqual(['layouts.5d1f0c9a7e21: 2 units for 3 points']);

    const allNull = specExample();
    allNull.layouts['5d1f0c9a7e21']!.units = [null, null, null];
    expect(invariants(allNull)).toEqual(['layouts.5d1f0c9a7e21: units present but every one is null (omit units instead)']);

    // The record 1001..1003 overlaps a reading numbered 1003.
    const overlap = specExample();
    overlap.readings[1] = { ...overlap.readings[1], seq: 1003 };
    expect(invariants(overlap)).toEqual(['readings[1]: seq 1003 does not follow 1003 (items must ascend without overlap)']);

    const countItems = { ...specExample(), count: 3 };
    expect(invariants(countItems)).toEqual(['count 3 but the items hold 7 readings']);

    // lastSeq must be the last *expanded* seq, not the last record's own seq.
    const lastOfRecord = { ...specExample(), lastSeq: 1005 };
    expect(invariants(lastOfRecord)).toEqual(['lastSeq 1005 but the last reading has seq 1007']);
    const first = { ...specExample(), firstSeq: 1000 };
    expect(invariants(first)).toEqual(['firstSeq 1000 but the first item has seq 1001']);
  });

  it('holds v1 batches to the same ordering, count and firstSeq/lastSeq rules', () => {
    const r = (seq: number) => ({ seq, device: 'd', point: 'p', value: 1, quality: 'good', ts: 1 });
    const v1 = { v: 1, gateway: 'g', outbox: 'o', batch: 'b', firstSeq: 1, lastSeq: 3, count: 3, sentAt: 1, readings: [r(1), r(2), r(3)] };
    expect(invariants(v1)).toEqual([]);
    expect(invariants({ ...v1, readings: [r(1), r(3), r(2)], lastSeq: 2 })).toEqual([
      'readings[2]: seq 2 does not follow 3 (items must ascend without overlap)',
    ]);
    expect(anyBatchPayloadSchema.safeParse({ ...v1, layouts: {} }).success).toBe(false);
  });
});
