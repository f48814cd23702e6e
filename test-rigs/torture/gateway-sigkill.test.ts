import { describe, expect, it } from 'vitest';
import { gatewaySigkillScenario } from './scenarios/gateway-sigkill.js';

describe('torture (short): SIGKILL of the gateway at random moments', () => {
  it('5 kills: no committed reading lost, duplicates within one in-flight window and one ack flush per kill, outbox intact', async () => {
    const f = await gatewaySigkillScenario('short', 5);
    expect(f.lost).toBe(0);
    expect(f.readings).toBeGreaterThan(1000);
  }, 180_000);
});
