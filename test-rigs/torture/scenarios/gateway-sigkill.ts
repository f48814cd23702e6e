import { seededRandom, seedFromEnv } from '../seeded-random.js';
import { sleep, TortureRig, type Profile } from '../rig.js';
import type { ScenarioFigures } from '../figures.js';

/**
 * SIGKILL the daemon again and again at random moments: while it opens the outbox, while it
 * drains the backlog the previous kill left, mid group commit, mid publish. Readings come from
 * four Modbus devices polled every 20 ms (~2000 readings/s) and are committed every 20 ms, so a
 * kill almost always lands with a commit or a batch in flight.
 */
export async function gatewaySigkillScenario(profile: Profile, kills: number): Promise<ScenarioFigures> {
  const seed = seedFromEnv();
  const random = seededRandom(seed);
  process.stderr.write(`[torture] sigkill-${profile}: seed ${seed} (replay with TORTURE_SEED=${seed})\n`);
  const rig = await TortureRig.start({
    scenario: `sigkill-${profile}`,
    profile,
    devices: 4,
    registersPerDevice: 10,
    pollMs: 20,
    gateway: { outbox: { commitInterval: '20ms' } },
  });
  try {
    let killedBeforeReady = 0;
    for (let k = 0; k < kills; k++) {
      const gw = rig.startGateway();
      // One kill in five lands during start-up (outbox open, recovery, first connect).
      if (random() < 0.2) {
        await sleep(50 + random() * 700);
        if (!gw.logs.some((l) => l.msg === 'gateway running')) killedBeforeReady++;
      } else {
        await gw.ready(30_000).catch((err: Error) => {
          throw new Error(`run ${k + 1}: ${err.message}\nstderr:\n${gw.stderr.join('\n')}`);
        });
        await sleep(100 + random() * 2000);
      }
      const exit = await gw.kill('SIGKILL');
      if (exit.signal !== 'SIGKILL') {
        throw new Error(`run ${k + 1} ended on its own (code ${exit.code}) before the kill; stderr:\n${gw.stderr.join('\n')}`);
      }
    }
    await rig.startGatewayReady();
    await rig.progress(1000, `${kills} kills`);
    return await rig.finish({ interruptions: kills, duplicatesPerInterruption: rig.killDuplicates, extra: { seed, killedBeforeReady } });
  } finally {
    await rig.dispose();
  }
}
