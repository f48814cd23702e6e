import { describe, expect, it } from 'vitest';
import { brokerOutageScenario } from './scenarios/broker-outage.js';

describe('torture (long): broker SIGKILLed and restarted, then a 60 s outage', () => {
  it('10 broker kills and a 60 s outage: nothing lost, backlog drained, outbox intact', async () => {
    const f = await brokerOutageScenario('long', { brokerKills: 10, outageMs: 60_000 });
    expect(f.lost).toBe(0);
    expect(f.backlogAtReconnect as number).toBeGreaterThan(50_000);
  }, 600_000);
});
