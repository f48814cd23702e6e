import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClaimedBatch } from '../../gateway/model/claimed-batch.js';
import { encodeReading } from '../../gateway/payload/encode.js';
import { batchPayload } from '../../gateway/payload/envelope.js';
import type { Reading } from '../../gateway/model/reading.js';
import { parseBatch } from '../subscriber/payload.js';

/**
 * Readings are encoded to JSON once, at commit, by byte assembly (gateway/payload/row-writer.ts) and
 * wrapped into batches the same way. Whatever a driver hands in — any string, lone surrogates,
 * NaN, ±Infinity, -0, huge or tiny numbers — the stored text must be valid JSON carrying the same
 * data, and a batch of such readings must pass the consumer's parser: one odd reading must never
 * make a central system reject a whole batch.
 */
const anyString = fc.string({ unit: 'binary', maxLength: 40 });
/** Non-finite numbers are rare in fc.double's output; a driver dividing by zero makes them common. */
const nonFinite = fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY);
const attrValue = fc.oneof(anyString, fc.double(), nonFinite, fc.integer(), fc.boolean());
const reading: fc.Arbitrary<Reading> = fc.record(
  {
    device: anyString.filter((s) => s.length > 0),
    point: anyString.filter((s) => s.length > 0),
    value: fc.oneof(fc.double(), nonFinite, fc.integer(), fc.boolean(), anyString, fc.constant(null)),
    quality: fc.constantFrom('good', 'bad', 'uncertain'),
    ts: fc.oneof(fc.double({ min: -1e15, max: 1e15, noNaN: true }), fc.integer({ min: 0, max: 4_102_444_800_000 })),
    unit: anyString,
    kind: fc.constantFrom('telemetry', 'event'),
    attrs: fc.dictionary(anyString, attrValue, { maxKeys: 4 }),
  },
  { requiredKeys: ['device', 'point', 'value', 'quality', 'ts'] },
) as fc.Arbitrary<Reading>;

const expectedValue = (v: Reading['value']): unknown => (typeof v === 'number' ? (Number.isFinite(v) ? v + 0 : null) : v);

describe('fuzz: outbox encoder', () => {
  it('every reading encodes to valid JSON carrying the same fields', () => {
    fc.assert(
      fc.property(reading, fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.boolean(), (r, seq, unsynced) => {
        const text = encodeReading(r, seq, unsynced);
        const parsed = JSON.parse(text) as Record<string, unknown>;
        expect(parsed.seq).toBe(seq);
        expect(parsed.device).toBe(r.device);
        expect(parsed.point).toBe(r.point);
        expect(parsed.unit).toBe(r.unit);
        expect(parsed.value).toEqual(expectedValue(r.value));
        expect(parsed.quality).toBe(r.quality);
        expect(parsed.ts).toBe(Math.round(r.ts) + 0);
        expect(parsed.kind).toBe(r.kind === 'event' ? 'event' : undefined);
        expect(parsed.clock).toBe(unsynced ? 'unsynced' : undefined);
        if (r.attrs !== undefined) expect(Object.keys(parsed.attrs as object).sort()).toEqual(Object.keys(r.attrs).sort());
      }),
      { numRuns: 2000 },
    );
  });

  it('a batch of arbitrary readings is accepted by the consumer-side parser', () => {
    fc.assert(
      fc.property(fc.array(reading, { minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 2 ** 40 }), (readings, firstSeq) => {
        const bodies = readings.map((r, i) => encodeReading(r, firstSeq + i, false));
        const batch: ClaimedBatch = {
          stream: 'telemetry',
          fromKey: firstSeq,
          toKey: firstSeq,
          firstSeq,
          lastSeq: firstSeq + readings.length - 1,
          count: readings.length,
          bytes: Buffer.byteLength(bodies.join(',')),
          bodies: [Buffer.from(bodies.join(','))],
          layouts: [],
        };
        const payload = batchPayload('gw-fuzz', '00000000-0000-4000-8000-000000000000', 'b-1', batch, Date.now());
        const parsed = parseBatch(payload, 'gw-fuzz');
        expect(parsed.ok ? 'ok' : parsed.reason).toBe('ok');
      }),
      { numRuns: 500 },
    );
  });

  it('non-finite timestamps and attribute values still give JSON the consumer accepts', () => {
    const odd = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
    const cases: Reading[] = [
      ...odd.map((ts) => ({ device: 'd', point: 'p', value: 1, quality: 'good' as const, ts })),
      ...odd.map((a) => ({ device: 'd', point: 'p', value: 1, quality: 'good' as const, ts: 1, attrs: { a } })),
    ];
    const rejected: string[] = [];
    for (const r of cases) {
      const body = encodeReading(r, 1, false);
      const batch: ClaimedBatch = { stream: 'telemetry', fromKey: 1, toKey: 1, firstSeq: 1, lastSeq: 1, count: 1, bytes: Buffer.byteLength(body), bodies: [Buffer.from(body)], layouts: [] };
      const parsed = parseBatch(batchPayload('gw-fuzz', 'o', 'b-1', batch, 1), 'gw-fuzz');
      if (!parsed.ok) rejected.push(`${body} -> ${parsed.reason.slice(0, 80)}`);
    }
    expect(rejected).toEqual([]);
  });
});
