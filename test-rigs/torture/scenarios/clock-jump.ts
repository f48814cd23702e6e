import { join } from 'node:path';
import { expect } from 'vitest';
import { FakeClock } from '../faketime.js';
import type { ScenarioFigures } from '../figures.js';
import { sleep, TortureRig, type Profile } from '../rig.js';

/**
 * The wall clock steps a day forward and back while the gateway runs with a backlog (broker
 * down), as NTP does on a box without RTC that booted with a stale time. Sequence order must hold,
 * no batch may get stuck, the drain must finish, and retention by age must not treat the backlog
 * as a day old just because the clock moved.
 */
const DAY_MS = 86_400_000;

export async function clockJumpScenario(profile: Profile, opts: { maxAge: string }): Promise<ScenarioFigures> {
  const rig = await TortureRig.start({
    scenario: `clock-jump-${profile}`,
    profile,
    devices: 2,
    registersPerDevice: 10,
    pollMs: 25,
    keepReadings: true,
    gateway: { outbox: { retention: { maxAge: opts.maxAge } }, clock: { syncCheck: 'none', jumpThreshold: '5s' } },
  });
  try {
    const clock = FakeClock.create(join(rig.config.dir, 'faketime.offset'));
    const gw = await rig.startGatewayReady(clock.env());
    await rig.progress(500, 'start');
    await rig.broker.stop();
    await sleep(2_000);

    let mark = gw.logs.length;
    clock.set('+1d');
    const forward = await gw.waitForLog((l) => l.msg === 'system clock jumped' && gw.logs.indexOf(l) >= mark, 20_000);
    await sleep(3_000); // several retention passes at the new time
    mark = gw.logs.length;
    clock.set('+0');
    const back = await gw.waitForLog((l) => l.msg === 'system clock jumped' && gw.logs.indexOf(l) >= mark, 20_000);
    await rig.broker.start();
    await rig.progress(1000, 'clock back and broker back');

    const jumps = rig.sub.readings.filter((r) => r.device === '_gateway' && r.point === 'clock.jump').map((r) => Number(r.value));
    const retentionDrops = gw.logs.filter((l) => l.msg === 'retention dropped buffered readings');
    const figures = await rig.finish({
      interruptions: 1,
      extra: {
        forwardDeltaMs: forward.deltaMs,
        backDeltaMs: back.deltaMs,
        jumpEventsUpstream: jumps.length,
        retentionDrops: retentionDrops.length,
        maxAge: opts.maxAge,
      },
    });
    expect(Math.abs(Number(forward.deltaMs) - DAY_MS)).toBeLessThan(60_000);
    expect(Math.abs(Number(back.deltaMs) + DAY_MS)).toBeLessThan(60_000);
    expect(jumps.some((d) => d > DAY_MS / 2) && jumps.some((d) => d < -DAY_MS / 2), `clock.jump events upstream: ${jumps.join(', ')}`).toBe(true);
    // Nothing waited anywhere near maxAge in real (monotonic) time: a wall-clock step alone must not
    // make retention discard the backlog, declared or not.
    expect(figures.declaredDropped, `readings dropped by retention only because the clock stepped: ${JSON.stringify(retentionDrops.slice(0, 3))}`).toBe(0);
    return figures;
  } finally {
    await rig.dispose();
  }
}
