import { afterEach, describe, expect, it } from 'vitest';
import type { Reading } from '../drivers/reading.js';
import type { OutboxStore } from '../gateway/outbox/store.js';

/**
 * The contract every outbox implementation passes (as MQTT.js runs abstractStoreTest against
 * each store): sequence numbers, order, delete-on-ack and release-on-disconnect, as the
 * forwarder and group commit rely on them. `build` opens a fresh, empty store; `dispose` closes
 * it and removes whatever it wrote.
 */
export interface OutboxUnderTest {
  store: OutboxStore;
  dispose(): void;
}

function readings(n: number, kind?: 'event'): Reading[] {
  return Array.from({ length: n }, (_, i) => ({ device: 'dev', point: 'p', value: i, quality: 'good' as const, ts: 1_700_000_000_000 + i, kind }));
}

function seqsOf(bodies: Buffer[]): number[] {
  return (JSON.parse(`[${bodies.map((b) => b.toString('utf8')).join(',')}]`) as { seq: number }[]).map((r) => r.seq);
}

export function outboxContract(name: string, build: () => OutboxUnderTest): void {
  describe(`outbox contract: ${name}`, () => {
    let open: OutboxUnderTest | null = null;
    const fresh = () => (open = build()).store;
    afterEach(() => {
      open?.dispose();
      open = null;
    });

    it('append returns consecutive sequence numbers shared by both streams', () => {
      const s = fresh();
      expect(s.append('telemetry', readings(3))).toBe(1);
      expect(s.append('event', readings(2, 'event'))).toBe(4);
      expect(s.append('telemetry', readings(1))).toBe(6);
      expect(s.stats().nextSeq).toBe(7);
      expect(s.stats().pendingReadings).toBe(6);
    });

    it('claim hands out the oldest readings in order and never the same ones twice', () => {
      const s = fresh();
      s.append('telemetry', readings(5));
      s.append('telemetry', readings(5));
      const a = s.claim('telemetry', 5, 1e6)!;
      const b = s.claim('telemetry', 5, 1e6)!;
      expect(seqsOf(a.bodies)).toEqual([1, 2, 3, 4, 5]);
      expect(seqsOf(b.bodies)).toEqual([6, 7, 8, 9, 10]);
      expect(s.claim('telemetry', 5, 1e6)).toBeNull();
      expect(s.claim('event', 5, 1e6)).toBeNull();
    });

    it('ack deletes exactly the batch; release makes every unacked claim pending again, in order', () => {
      const s = fresh();
      s.append('event', readings(2, 'event'));
      s.append('event', readings(2, 'event'));
      const first = s.claim('event', 2, 1e6)!;
      s.claim('event', 2, 1e6);
      s.ack(first);
      expect(s.stats().pendingReadings).toBe(2);
      s.release();
      const again = s.claim('event', 10, 1e6)!;
      expect(seqsOf(again.bodies)).toEqual([3, 4]);
    });

    it('countRefused is reported and uses no sequence number', () => {
      const s = fresh();
      s.countRefused(7);
      expect(s.stats().refusedReadings).toBe(7);
      expect(s.append('telemetry', readings(1))).toBe(1);
    });

    it('has a stable non-empty id', () => {
      const s = fresh();
      expect(s.id).toMatch(/\S/);
      expect(s.stats().outboxId).toBe(s.id);
    });
  });
}
