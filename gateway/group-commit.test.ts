import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Reading } from './model/reading.js';
import { GroupCommit } from './group-commit.js';
import { OutboxFullError } from './model/outbox-full.js';
import type { Stream } from './model/stream.js';
import type { ReadingSink } from './outbox/store.js';

/** A sink that records each append as the outbox would commit it (one seq per reading). */
class RecordingSink implements ReadingSink {
  appends: { stream: Stream; readings: Reading[] }[] = [];
  refused = 0;
  refuse: Error | null = null;
  private nextSeq = 1;
  append(stream: Stream, readings: readonly Reading[]): number {
    if (this.refuse) throw this.refuse;
    this.appends.push({ stream, readings: [...readings] });
    const first = this.nextSeq;
    this.nextSeq += readings.length;
    return first;
  }
  countRefused(n: number): void {
    this.refused += n;
  }
}

function logCapture() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

const reading = (over: Partial<Reading> = {}): Reading => ({ device: 'd1', point: 'p', value: 1, quality: 'good', ts: 1_700_000_000_000, ...over });

describe('GroupCommit', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_800_000_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('commits telemetry once per window, in one append per stream', () => {
    const sink = new RecordingSink();
    const gc = new GroupCommit({ outbox: sink, intervalMs: 1000, maxReadings: 1000, log: logCapture().log });
    gc.addMany('d1', [reading(), reading({ point: 'q' })]);
    gc.add(reading({ device: 'd2' }));
    vi.advanceTimersByTime(999);
    expect(sink.appends).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(sink.appends).toEqual([{ stream: 'telemetry', readings: [expect.objectContaining({ device: 'd1', point: 'p' }), expect.objectContaining({ point: 'q' }), expect.objectContaining({ device: 'd2' })] }]);
    expect(gc.stats()).toMatchObject({ waiting: 0, commits: 1, failures: 0 });
  });

  it('an event does not wait out a long telemetry window', () => {
    const sink = new RecordingSink();
    const gc = new GroupCommit({ outbox: sink, intervalMs: 60_000, maxReadings: 1000, log: logCapture().log });
    gc.addMany('gate', [reading({ kind: 'event', point: 'scan' })]);
    vi.advanceTimersByTime(10);
    expect(sink.appends.map((a) => a.stream)).toEqual(['event']);
  });

  it('commits at once when maxReadings are waiting', () => {
    const sink = new RecordingSink();
    const gc = new GroupCommit({ outbox: sink, intervalMs: 60_000, maxReadings: 3, log: logCapture().log });
    gc.addMany('d1', [reading(), reading(), reading()]);
    expect(sink.appends).toHaveLength(1);
  });

  it('repairs an invalid timestamp: gateway time, quality uncertain, counted, logged once per device', () => {
    const sink = new RecordingSink();
    const { log, lines } = logCapture();
    const gc = new GroupCommit({ outbox: sink, intervalMs: 1000, maxReadings: 1000, log });
    gc.addMany('plc', [reading({ ts: Number.NaN }), reading({ ts: Number.NaN, quality: 'bad' }), reading({ ts: 5 })]);
    gc.add(reading({ device: 'plc', ts: Number.POSITIVE_INFINITY }));
    gc.flush();
    const [a, b, c, d] = sink.appends[0]!.readings;
    expect(a).toMatchObject({ ts: Date.now(), quality: 'uncertain' });
    expect(b).toMatchObject({ ts: Date.now(), quality: 'bad' });
    expect(c).toMatchObject({ ts: 5, quality: 'good' });
    expect(d).toMatchObject({ ts: Date.now(), quality: 'uncertain' });
    expect(gc.stats().invalidTimestamps).toBe(3);
    expect(lines.filter((l) => String(l.msg).startsWith('reading with an invalid timestamp'))).toHaveLength(1);
  });

  it('leaves the reading objects a driver hands in as they were', () => {
    const sink = new RecordingSink();
    const gc = new GroupCommit({ outbox: sink, intervalMs: 1000, maxReadings: 1000, log: logCapture().log });
    const mine: Omit<Reading, 'device'>[] = [
      { point: 'p', value: 1, quality: 'good', ts: Number.NaN },
      { point: 'q', value: 2, quality: 'good', ts: 5 },
    ];
    gc.addMany('plc', mine);
    gc.flush();
    expect(sink.appends[0]!.readings).toMatchObject([{ device: 'plc', point: 'p', quality: 'uncertain', ts: Date.now() }, { device: 'plc', point: 'q', ts: 5 }]);
    expect(mine).toEqual([
      { point: 'p', value: 1, quality: 'good', ts: Number.NaN },
      { point: 'q', value: 2, quality: 'good', ts: 5 },
    ]);
  });

  it('a packed run with an invalid timestamp gets the same rule as plain readings', () => {
    const sink = new RecordingSink();
    const gc = new GroupCommit({ outbox: sink, intervalMs: 1000, maxReadings: 1000, log: logCapture().log });
    const values = [7, true];
    gc.addPacked('plc', [{ points: { names: ['a', 'b'], units: ['V', undefined] }, count: 2, ts: Number.NaN, value: (i) => values[i]! }]);
    gc.flush();
    expect(sink.appends[0]!.readings).toEqual([
      { device: 'plc', point: 'a', unit: 'V', value: 7, quality: 'uncertain', ts: Date.now() },
      { device: 'plc', point: 'b', value: true, quality: 'uncertain', ts: Date.now() },
    ]);
    expect(gc.stats()).toMatchObject({ invalidTimestamps: 2, waiting: 0 });
  });

  it('a full outbox refuses the batch, logs once per episode and reports it until space returns', () => {
    const sink = new RecordingSink();
    const { log, lines } = logCapture();
    const gc = new GroupCommit({ outbox: sink, intervalMs: 1000, maxReadings: 1000, log });
    sink.refuse = new OutboxFullError('disk full');
    gc.add(reading());
    gc.flush();
    gc.add(reading());
    gc.flush();
    expect(gc.stats()).toMatchObject({ failures: 2, outboxFull: true, commits: 0 });
    expect(lines.filter((l) => String(l.msg).startsWith('outbox full'))).toHaveLength(1);
    sink.refuse = null;
    gc.add(reading());
    gc.flush();
    expect(gc.stats()).toMatchObject({ outboxFull: false, commits: 1 });
  });
});
