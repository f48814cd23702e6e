import { describe, expect, it } from 'vitest';
import { inboundMqttFuzzScenario } from './scenarios/inbound-mqtt-fuzz.js';

describe('torture (long): a hostile broker floods the real daemon', () => {
  it('60 s unsolicited QoS 2 flood, then 150 generated floods of 2 s: RSS bounded, devices at rate, forwarding resumes', async () => {
    const f = await inboundMqttFuzzScenario('long');
    expect(f.cases).toBe(150);
    expect(f.qos2FloodPubrecs).toBeGreaterThan(500); // at the read budget, ~17 a second
    // Issue #21: an inbound flood of any kind for 60 s keeps RSS within +20 MB.
    expect(f.qos2FloodPeakRssMiB - f.baselineRssMiB).toBeLessThan(20);
    expect(f.peakRssMiB - f.baselineRssMiB).toBeLessThan(48);
    expect(f.inbound.dropped.unsolicited).toBeGreaterThan(f.qos2FloodPubrecs);
    expect(f.inbound.throttledS).toBeGreaterThan(0);
    expect(f.inbound.violations).toBeGreaterThan(0);
    // Devices keep their rate (10 polls/s configured) through every flood.
    expect(f.pollsPerSDuringFloods).toBeGreaterThan(0.9 * f.pollsPerSBefore);
    expect(f.telemetryPublishesAfter).toBeGreaterThan(3);
  }, 900_000);
});
