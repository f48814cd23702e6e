import { describe, expect, it } from 'vitest';
import { brokerOutageScenario } from './scenarios/broker-outage.js';

describe('torture (short): broker SIGKILLed and restarted, then a 5 s outage', () => {
  it('2 broker kills and a 5 s outage: nothing lost, backlog drained, outbox intact', async () => {
    const f = await brokerOutageScenario('short', { brokerKills: 2, outageMs: 5_000 });
    expect(f.lost).toBe(0);
    expect(f.backlogAtReconnect as number).toBeGreaterThan(1000);
  }, 180_000);
});
