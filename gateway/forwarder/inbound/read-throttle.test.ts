import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ReadThrottle } from './read-throttle.js';

describe('ReadThrottle', () => {
  it('pauses reading for as long as the excess takes to pay back, and a pipe cannot resume it early', async () => {
    const stream = new PassThrough();
    stream.on('data', () => undefined); // flowing, as under mqtt.js's pipe
    const pauses: number[] = [];
    let now = 0;
    const throttle = new ReadThrottle(stream, { bytesPerS: 1000, packetsPerS: 100 }, (ms) => pauses.push(ms), () => now);
    throttle.took(1000, 10); // within the burst
    expect(stream.isPaused()).toBe(false);
    throttle.took(200, 0); // 200 bytes over: 0.2 s
    expect(pauses).toEqual([200]);
    expect(stream.isPaused()).toBe(true);
    stream.resume(); // what a pipe does when its destination drains
    expect(stream.isPaused()).toBe(true);
    await new Promise((r) => setTimeout(r, 260));
    expect(stream.isPaused()).toBe(false);
    now += 10_000; // budget refilled
    throttle.took(0, 150); // 50 packets over: 0.5 s
    expect(pauses).toEqual([200, 500]);
    stream.destroy();
  });
});
