import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCameraSim, type CameraSim } from '../../test-rigs/camera-sim/camera-sim.js';
import { captureContext, waitFor, type CapturedContext } from '../../test-rigs/camera-sim/capture-context.js';
import type { Driver } from '../driver.js';
import { createCameraDriver } from './driver.js';
import { cameraProbeLimiter, DEFAULT_PROBE_CONCURRENCY } from './probe-limiter.js';
import { cameraDeviceSchema } from './schema.js';

const CAMERAS = 50;
const HUNG = new Set([3, 11, 24, 37, 49]);
const INTERVAL_MS = 5000;
const TIMEOUT_MS = 1000;

describe(`${CAMERAS} cameras behind one gateway, ${HUNG.size} of them hung`, () => {
  const sims: CameraSim[] = [];
  const drivers: Driver[] = [];
  const ctxs: CapturedContext[] = [];

  beforeAll(async () => {
    for (let i = 0; i < CAMERAS; i++) {
      const sim = await startCameraSim({ username: 'viewer', password: `pw-${i}`, firmware: `fw-${i}` });
      if (HUNG.has(i)) await sim.setFault('hang');
      sims.push(sim);
    }
  });

  afterAll(async () => {
    await Promise.all(drivers.map((d) => d.stop()));
    await Promise.all(sims.map((s) => s.stop()));
  });

  it('checks every camera within one interval plus timeouts, through the shared limiter, without hung ones stalling the rest', async () => {
    expect(cameraProbeLimiter.limit).toBe(DEFAULT_PROBE_CONCURRENCY);
    let maxRunning = 0;
    const sampler = setInterval(() => (maxRunning = Math.max(maxRunning, cameraProbeLimiter.running)), 2);
    const t0 = Date.now();
    sims.forEach((sim, i) => {
      const id = `cam-${String(i).padStart(2, '0')}`;
      const cfg = cameraDeviceSchema.parse({
        type: 'camera',
        id,
        host: sim.host,
        intervalMs: INTERVAL_MS,
        flapThreshold: 3,
        username: 'viewer',
        password: `pw-${i}`,
        probes: {
          tcp: { port: sim.rtspPort, timeoutMs: TIMEOUT_MS },
          rtsp: { port: sim.rtspPort, path: sim.streamPath, timeoutMs: TIMEOUT_MS },
          onvif: { port: sim.httpPort, path: sim.onvifPath, timeoutMs: TIMEOUT_MS },
          snapshot: { url: sim.snapshotUrl, timeoutMs: TIMEOUT_MS },
        },
      });
      const c = captureContext(id, 'info');
      ctxs.push(c);
      drivers.push(createCameraDriver(cfg, c.ctx)); // default: the process-wide limiter
    });
    await Promise.all(drivers.map((d) => d.start()));

    const firstStateAt: number[] = new Array(CAMERAS).fill(0);
    await waitFor(
      () => {
        ctxs.forEach((c, i) => {
          if (firstStateAt[i] === 0 && c.readings.some((r) => r.point === 'state' && r.kind === 'event')) firstStateAt[i] = Date.now() - t0;
        });
        return firstStateAt.every((t) => t > 0);
      },
      INTERVAL_MS + 10 * TIMEOUT_MS,
      'every camera to report a state',
    );
    clearInterval(sampler);

    const healthyTimes = firstStateAt.filter((_, i) => !HUNG.has(i));
    const hungTimes = firstStateAt.filter((_, i) => HUNG.has(i));
    const allDone = Math.max(...firstStateAt);
    console.log(
      `fleet: all ${CAMERAS} checked in ${allDone} ms; healthy max ${Math.max(...healthyTimes)} ms; ` +
        `hung ${Math.min(...hungTimes)}-${Math.max(...hungTimes)} ms; max concurrent probes ${maxRunning}`,
    );
    // Generous bound: the whole first round fits in one interval plus probe timeouts.
    expect(allDone).toBeLessThan(INTERVAL_MS + TIMEOUT_MS);
    // Hung cameras cannot finish before their first probe timeout; healthy ones were not held behind them.
    expect(Math.max(...healthyTimes)).toBeLessThan(Math.min(...hungTimes));
    expect(maxRunning).toBeLessThanOrEqual(DEFAULT_PROBE_CONCURRENCY);
    expect(maxRunning).toBeGreaterThan(1);

    ctxs.forEach((c, i) => {
      const ev = c.readings.find((r) => r.point === 'state' && r.kind === 'event')!;
      if (HUNG.has(i)) {
        expect(ev.value).toBe('degraded');
        expect(String(ev.attrs?.reason).split(',').sort()).toEqual(['onvif:ETIMEDOUT', 'rtsp:ETIMEDOUT', 'snapshot:ETIMEDOUT']);
      } else {
        expect(ev.value, `cam ${i}`).toBe('online');
        expect(c.readings.find((r) => r.point === 'firmware')?.value).toBe(`fw-${i}`);
      }
    });
    // Hung probes time out; they do not pile up: every slot is free again.
    await waitFor(() => cameraProbeLimiter.running === 0, 3 * TIMEOUT_MS, 'limiter to drain');
  });
});
