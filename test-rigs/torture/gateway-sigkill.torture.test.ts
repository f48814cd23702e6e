import { describe, expect, it } from 'vitest';
import { gatewaySigkillScenario } from './scenarios/gateway-sigkill.js';

describe('torture (long): SIGKILL of the gateway at random moments', () => {
  it('100 kills: no committed reading lost, duplicates within one in-flight window and one ack flush per kill, outbox intact', async () => {
    const f = await gatewaySigkillScenario('long', 100);
    expect(f.lost).toBe(0);
    expect(f.readings).toBeGreaterThan(10_000);
  }, 600_000);
});
