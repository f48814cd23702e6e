import { describe, expect, it } from 'vitest';
import type { BatchPayload } from './payload.js';
import { parseRanges, replayAnswersInBatch } from './replay-requests.js';

function batch(readings: BatchPayload['readings']): BatchPayload {
  return { v: 1, gateway: 'gw', outbox: 'o', batch: 'b', firstSeq: 1, lastSeq: readings.length, count: readings.length, sentAt: 0, readings };
}

const event = (seq: number, value: string, attrs: Record<string, string | number | boolean>) => ({ seq, device: '_gateway', point: 'command', value, quality: 'good' as const, ts: 0, kind: 'event' as const, attrs });

describe('replay answers', () => {
  it('reads unavailable ranges, skipping anything malformed', () => {
    expect(parseRanges('')).toEqual([]);
    expect(parseRanges('1-5,9-9')).toEqual([{ from: 1, to: 5 }, { from: 9, to: 9 }]);
    expect(parseRanges('5-1,x-3,0-2,7')).toEqual([]);
  });

  it('takes final replay outcomes from command events, and nothing else', () => {
    const answers = replayAnswersInBatch(
      batch([
        event(1, 'accepted', { id: 'r-1', action: 'replay' }),
        event(2, 'executed', { id: 'r-1', action: 'replay', replayed: 40, unavailable: '10-19' }),
        event(3, 'executed', { id: 'w-1', action: 'write' }),
        event(4, 'rejected', { id: 'r-2', action: 'replay', reason: 'wrong-outbox: ...', unavailable: '1-100' }),
      ]),
    );
    expect(answers).toEqual([
      { id: 'r-1', outcome: 'executed', replayed: 40, unavailable: [{ from: 10, to: 19 }], unavailableText: '10-19', reason: null },
      // Only an executed answer declares ranges lost.
      { id: 'r-2', outcome: 'rejected', replayed: null, unavailable: [], unavailableText: '1-100', reason: 'wrong-outbox: ...' },
    ]);
  });
});
