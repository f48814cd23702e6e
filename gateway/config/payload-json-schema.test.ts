import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { v2Example } from '../../test-rigs/subscriber/v2-example.js';

/**
 * The published docs/payload.schema.json, read back as a consumer would (zod's own JSON Schema
 * reader, independent of the zod schemas it was generated from): payload.md promises that new
 * optional fields keep the version, so a batch carrying fields this release does not know must
 * validate, at every level, while a breaking change (another `v`) still must not.
 */
const published = JSON.parse(readFileSync(join(import.meta.dirname, '../../docs/payload.schema.json'), 'utf8')) as { $defs: Record<string, unknown> };
const consumer = (name: string) => z.fromJSONSchema(published.$defs[name] as Parameters<typeof z.fromJSONSchema>[0]);

const v1 = {
  v: 1, gateway: 'g', outbox: 'o', batch: 'b', firstSeq: 1, lastSeq: 2, count: 2, sentAt: 1,
  readings: [
    { seq: 1, device: 'd', point: 'p', value: 1, quality: 'good', ts: 1 },
    { seq: 2, device: '_gateway', point: 'outbox.dropped', value: 3, quality: 'good', ts: 1, kind: 'event', attrs: { fromSeq: 1, toSeq: 3 } },
  ],
};

describe('published payload schema (docs/payload.schema.json)', () => {
  it('accepts a v1 batch with unknown fields on the envelope and on readings', () => {
    const batch = consumer('telemetryOrEventsBatch');
    expect(batch.safeParse(v1).success).toBe(true);
    const future = { ...v1, site: { id: 'x' }, readings: v1.readings.map((r) => ({ ...r, sourceTs: 5 })) };
    expect(batch.safeParse(future).success).toBe(true);
    expect(batch.safeParse({ ...future, v: 3 }).success).toBe(false);
  });

  it('accepts a v2 batch with unknown fields on the envelope, layouts, records and readings', () => {
    const batch = consumer('telemetryOrEventsBatchV2');
    const b = v2Example() as unknown as { layouts: Record<string, Record<string, unknown>>; readings: Array<Record<string, unknown>> };
    expect(batch.safeParse(b).success).toBe(true);
    for (const l of Object.values(b.layouts)) l.scale = [1, 1, 1];
    b.readings = b.readings.map((r) => ({ ...r, sourceTs: 5 }));
    expect(batch.safeParse({ ...b, bootId: 'ab' }).success).toBe(true);
  });

  it('accepts health with unknown fields at every level', () => {
    const health = consumer('health');
    const h = {
      v: 1, gateway: 'g', ts: 1, uptimeS: 1, clock: { synced: true, offsetMs: 3 },
      outbox: { id: 'o', nextSeq: 1, pendingReadings: 0, pendingBytes: 0, pendingEvents: 0, oldestPendingMs: null,
        dropped: { readings: 0, ranges: [] }, skipped: { ranges: [] }, refused: 0, drainRatePerS: 0, drainEtaS: null, newField: 1 },
      broker: { connected: true, url: null, connects: 1, lastError: null, inflightBatches: 0, nextAttemptAtMs: null,
        inbound: { dropped: { unsolicited: 0, tooLarge: 0, overLimit: 0 }, violations: 0, lastViolation: null, throttledS: 0 }, x: 1 },
      config: { running: 'config-dir', lastGoodSavedAt: null, rejected: null },
      commit: { waiting: 0, commits: 0, failures: 0, outboxFull: false, invalidTimestamps: 0, y: 2 },
      devices: {}, process: { rssBytes: 1, heapUsedBytes: 1, z: 3 }, somethingNew: true,
      intervalMs: 10_000, startedAt: 1, bootId: 'b', version: { package: '0.1.0', node: 'v24.21.0', outboxSchema: 1, extra: 'x' }, site: { id: 's', elevation: 3 },
    };
    const r = health.safeParse(h);
    expect(r.error?.issues ?? []).toEqual([]);
  });

  it('accepts status v1 with unknown fields, and says nothing for the bare bytes of older gateways (they are not JSON)', () => {
    const status = consumer('status');
    const s = { v: 1, gateway: 'g', state: 'offline', reason: 'lwt', ts: 1, outbox: { id: 'o', lastSeq: 3 }, bootId: 'b', startedAt: 1, version: { package: '0.1.0', node: 'v24.21.0', outboxSchema: 1, extra: 'x' }, extra: 1 };
    expect(status.safeParse(s).error?.issues ?? []).toEqual([]);
    expect(status.safeParse('offline').success).toBe(false);
  });
});
