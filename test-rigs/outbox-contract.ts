import { afterEach, describe, expect, it } from 'vitest';
import type { ClaimedBatch } from '../gateway/model/claimed-batch.js';
import type { RowEncoder } from '../gateway/model/encoded-row.js';
import type { PackedReadings } from '../gateway/model/packed-readings.js';
import { PackedRun, readingCount, type Committable } from '../gateway/model/packed-run.js';
import type { Reading } from '../gateway/model/reading.js';
import type { Stream } from '../gateway/model/stream.js';
import type { OutboxStore } from '../gateway/outbox/store.js';
import { rowEncoder, type PayloadVersion } from '../gateway/payload/encode.js';

/**
 * The contract every outbox implementation passes (as MQTT.js runs abstractStoreTest against
 * each store), once per payload encoding: sequence numbers, order, delete-on-ack and
 * release-on-disconnect, as the forwarder and group commit rely on them, over the paths
 * production runs (plain readings and packed runs, v1 readings and v2 records with their
 * layouts, the byte and count bounds, `holdMs`, and claims that keep up with commits, which the
 * SQLite outbox serves from memory).
 *
 * A store keeps the rows its encoder hands it and never reads them, so the suite never reads
 * them either: it encodes every commit a second time with its own encoder instance and checks
 * that each claimed batch is exactly those rows' bytes, seqs and shared parts, in order.
 * `build` opens a fresh, empty store using `encoder`; `dispose` closes it and removes whatever
 * it wrote.
 */
export interface OutboxUnderTest {
  store: OutboxStore;
  dispose(): void;
}

export interface ContractStoreOptions {
  encoder: RowEncoder;
  rowMaxReadings: number;
}

const ENCODINGS: readonly PayloadVersion[] = [1, 2];
const T0 = 1_700_000_000_000;

function readings(n: number, kind?: 'event', point = 'p'): Reading[] {
  return Array.from({ length: n }, (_, i) => ({ device: 'dev', point, value: i, quality: 'good' as const, ts: T0 + i, kind }));
}

function packed(device: string, names: string[], values: (number | boolean)[], ts = T0): PackedRun {
  const p: PackedReadings = { points: { names, units: names.map((_, i) => (i % 2 === 0 ? 'V' : undefined)) }, count: values.length, ts, value: (i) => values[i]! };
  return new PackedRun(device, p);
}

interface ExpectedRow {
  stream: Stream;
  firstSeq: number;
  count: number;
  body: Buffer;
  parts: string[];
}

/** What was committed, as rows encoded by the suite's own encoder: what claims must give back. */
class Ledger {
  private readonly rows: ExpectedRow[] = [];

  constructor(
    private readonly store: OutboxStore,
    private readonly reference: RowEncoder,
    private readonly rowMax: number,
  ) {}

  append(stream: Stream, items: Committable[], now?: number): number {
    const first = this.store.append(stream, items, now);
    const end = this.reference.encodeRows(items, first, this.rowMax, false, (row) =>
      this.rows.push({ stream, firstSeq: row.firstSeq, count: row.count, body: Buffer.from(row.body), parts: row.parts.map((p) => p.id) }),
    );
    expect(end - first).toBe(readingCount(items));
    return first;
  }

  /** The batch is exactly the stored rows between its keys: bytes, seqs, count and parts. */
  check(batch: ClaimedBatch): ExpectedRow[] {
    const rows = this.rows.filter((r) => r.stream === batch.stream && r.firstSeq >= batch.fromKey && r.firstSeq <= batch.toKey);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows[0]!.firstSeq).toBe(batch.firstSeq);
    expect(rows.at(-1)!.firstSeq).toBe(batch.toKey);
    expect(batch.lastSeq).toBe(rows.at(-1)!.firstSeq + rows.at(-1)!.count - 1);
    expect(batch.count).toBe(rows.reduce((n, r) => n + r.count, 0));
    expect(batch.bodies).toEqual(rows.map((r) => r.body));
    const parts = [...new Set(rows.flatMap((r) => r.parts))];
    expect(batch.layouts.map((l) => l.id)).toEqual(parts);
    expect(batch.bytes).toBe(rows.reduce((n, r) => n + r.body.length, 0) + batch.layouts.reduce((n, l) => n + l.batchBytes, 0));
    return rows;
  }

  /** Seqs of a stream's committed readings, ascending. */
  seqs(stream: Stream): number[] {
    return this.rows.filter((r) => r.stream === stream).flatMap((r) => Array.from({ length: r.count }, (_, i) => r.firstSeq + i));
  }
}

function seqsOf(batches: ClaimedBatch[], ledger: Ledger): number[] {
  return batches.flatMap((b) => ledger.check(b).flatMap((r) => Array.from({ length: r.count }, (_, i) => r.firstSeq + i)));
}

export function outboxContract(name: string, build: (opts: ContractStoreOptions) => OutboxUnderTest): void {
  for (const version of ENCODINGS) {
    describe(`outbox contract: ${name}, payload v${version}`, () => {
      let open: OutboxUnderTest | null = null;
      const fresh = (rowMaxReadings = 100) => {
        open = build({ encoder: rowEncoder(version), rowMaxReadings });
        return { s: open.store, ledger: new Ledger(open.store, rowEncoder(version), rowMaxReadings) };
      };
      afterEach(() => {
        open?.dispose();
        open = null;
      });

      it('append returns consecutive sequence numbers shared by both streams', () => {
        const { ledger, s } = fresh();
        expect(ledger.append('telemetry', readings(3))).toBe(1);
        expect(ledger.append('event', readings(2, 'event'))).toBe(4);
        expect(ledger.append('telemetry', [packed('plc', ['a', 'b'], [1, true])])).toBe(6);
        expect(ledger.append('telemetry', readings(1))).toBe(8);
        expect(s.stats().nextSeq).toBe(9);
        expect(s.stats().pendingReadings).toBe(8);
      });

      it('claim hands out the oldest readings in order and never the same ones twice', () => {
        const { ledger, s } = fresh();
        ledger.append('telemetry', readings(5));
        ledger.append('telemetry', readings(5));
        const a = s.claim('telemetry', 5, 1e6)!;
        const b = s.claim('telemetry', 5, 1e6)!;
        expect(seqsOf([a], ledger)).toEqual([1, 2, 3, 4, 5]);
        expect(seqsOf([b], ledger)).toEqual([6, 7, 8, 9, 10]);
        expect(s.claim('telemetry', 5, 1e6)).toBeNull();
        expect(s.claim('event', 5, 1e6)).toBeNull();
      });

      it('ack deletes exactly the batch; release makes every unacked claim pending again, in order', () => {
        const { ledger, s } = fresh();
        ledger.append('event', readings(2, 'event'));
        ledger.append('event', readings(2, 'event'));
        const first = s.claim('event', 2, 1e6)!;
        s.claim('event', 2, 1e6);
        s.ack(first);
        expect(s.stats().pendingReadings).toBe(2);
        s.release();
        expect(seqsOf([s.claim('event', 10, 1e6)!], ledger)).toEqual([3, 4]);
      });

      it('stores packed runs beside plain readings, whatever rows they fall into, with the layouts their rows name', () => {
        const { ledger, s } = fresh(4);
        const a = packed('plc', ['flow', 'level', 'pump.on'], [1, 2.5, true]);
        const b = packed('plc', ['x', 'y', 'z', 'w', 'v'], [5, 6, 7, 8, 9], T0 + 1000);
        const c = packed('meter', ['kwh'], [42]);
        expect(ledger.append('telemetry', [a, ...readings(1), b, c, a])).toBe(1);
        expect(s.stats().pendingReadings).toBe(13);
        const batch = s.claim('telemetry', 100, 1e6)!;
        expect(seqsOf([batch], ledger)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
        // v1 writes a run as plain readings; v2 as records, each naming its layout once per batch.
        expect(batch.layouts.length).toBe(version === 2 ? 3 : 0);
        s.ack(batch);
        expect(s.stats().pendingReadings).toBe(0);
      });

      it('a batch carries each layout once and stays within the byte bound, but always takes one row', () => {
        const { ledger, s } = fresh(3);
        for (let i = 0; i < 6; i++) ledger.append('telemetry', [packed('plc', ['a', 'b', 'c'], [i, i + 1, i + 2])]);
        const one = s.claim('telemetry', 100, 1)!;
        expect(one.fromKey).toBe(one.toKey);
        ledger.check(one);
        const rowBytes = one.bytes;
        const two = s.claim('telemetry', 100, 2 * rowBytes)!;
        ledger.check(two);
        expect(two.bytes).toBeLessThanOrEqual(2 * rowBytes);
        expect(two.count).toBeGreaterThanOrEqual(3);
        const rest = s.claim('telemetry', 100, 1e6)!;
        expect(seqsOf([one, two, rest], ledger)).toEqual(ledger.seqs('telemetry'));
        expect(s.claim('telemetry', 100, 1e6)).toBeNull();
      });

      it('a batch stops before the row that would pass maxReadings', () => {
        const { ledger, s } = fresh(2);
        ledger.append('telemetry', readings(7));
        const batches: ClaimedBatch[] = [];
        for (let b = s.claim('telemetry', 3, 1e6); b !== null; b = s.claim('telemetry', 3, 1e6)) batches.push(b);
        expect(batches.map((b) => b.count)).toEqual([2, 2, 3]);
        expect(seqsOf(batches, ledger)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      });

      it('holdMs keeps a small young batch back until it is old enough or full', () => {
        const { ledger, s } = fresh();
        ledger.append('telemetry', readings(3), T0);
        expect(s.claim('telemetry', 10, 1e6, 1000, T0 + 999)).toBeNull();
        ledger.append('telemetry', readings(7), T0 + 500);
        // Full (maxReadings reached): goes at once whatever its age.
        const full = s.claim('telemetry', 10, 1e6, 1000, T0 + 600)!;
        expect(seqsOf([full], ledger)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
        ledger.append('telemetry', readings(2), T0 + 700);
        expect(s.claim('telemetry', 10, 1e6, 1000, T0 + 1699)).toBeNull();
        expect(seqsOf([s.claim('telemetry', 10, 1e6, 1000, T0 + 1700)!], ledger)).toEqual([11, 12]);
      });

      it('claims that keep up with commits, fall behind and are released lose and repeat nothing', () => {
        const { ledger, s } = fresh(50);
        const acked: number[] = [];
        const drain = (max: number) => {
          const out: ClaimedBatch[] = [];
          for (let b = s.claim('telemetry', max, 64 * 1024); b !== null; b = s.claim('telemetry', max, 64 * 1024)) out.push(b);
          return out;
        };
        const ack = (batches: ClaimedBatch[]) => {
          acked.push(...seqsOf(batches, ledger));
          for (const b of batches) s.ack(b);
        };
        // Keeping up: a few commits at a time are claimed right after them, in batches of one or more rows.
        for (let i = 0; i < 20; i++) {
          for (let j = 0; j <= i % 3; j++) ledger.append('telemetry', (i + j) % 3 === 0 ? [packed('plc', ['a', 'b', 'c'], [i, j, i])] : readings(5));
          ack(drain(i % 2 === 0 ? 500 : 8));
        }
        // A claim in flight is released (connection lost) while commits go on.
        ledger.append('telemetry', readings(10));
        const inFlight = drain(500);
        expect(inFlight.length).toBeGreaterThan(0);
        ledger.append('telemetry', readings(10));
        s.release();
        ack(drain(500));
        // Falling behind: more than any in-memory copy of the newest rows should hold (> 4 MiB).
        const long = 'x'.repeat(2000);
        for (let i = 0; i < 60; i++) ledger.append('telemetry', readings(50, undefined, long));
        ack(drain(500));
        ledger.append('telemetry', readings(3));
        ack(drain(500));
        expect(acked).toEqual(ledger.seqs('telemetry'));
        expect(s.stats().pendingReadings).toBe(0);
      });

      it('countRefused is reported and uses no sequence number', () => {
        const { ledger, s } = fresh();
        s.countRefused(7);
        expect(s.stats().refusedReadings).toBe(7);
        expect(ledger.append('telemetry', readings(1))).toBe(1);
      });

      it('has a stable non-empty id', () => {
        const { s } = fresh();
        expect(s.id).toMatch(/\S/);
        expect(s.stats().outboxId).toBe(s.id);
      });
    });
  }
}
