import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startBroker } from '../../test-rigs/broker/broker.js';
import { startCameraSim } from '../../test-rigs/camera-sim/camera-sim.js';
import { writeConfigDir } from '../../test-rigs/harness/config-dir.js';
import { startGatewayUnderTest } from '../../test-rigs/harness/gateway-under-test.js';

/**
 * Camera status through the whole data path: camera simulator -> real daemon (dist/, built by
 * `npm test`) with the password in a passwordFile -> SQLite outbox -> real broker -> reference
 * subscriber. A fault on the camera must arrive centrally as a state event with its reason,
 * and the password must appear nowhere in what the daemon logs or publishes.
 */
const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const PASSWORD = 'e2e-Cam-Pa55';

describe('camera end to end', () => {
  it('state events and latency telemetry reach the subscriber; a lost video track arrives as degraded with its reason', async () => {
    const broker = await startBroker();
    cleanups.push(() => broker.dispose());
    const sim = await startCameraSim({ username: 'viewer', password: PASSWORD, model: 'E2E-1', firmware: '9.9' });
    cleanups.push(() => sim.stop());
    const secrets = mkdtempSync(join(tmpdir(), 'camera-e2e-secret-'));
    cleanups.push(() => rmSync(secrets, { recursive: true, force: true }));
    const passwordFile = join(secrets, 'cam.pw');
    writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });

    const config = writeConfigDir({
      brokerUrls: [broker.url],
      devices: {
        'cam-north': {
          type: 'camera',
          host: sim.host,
          intervalMs: 1000,
          flapThreshold: 1,
          username: 'viewer',
          passwordFile,
          probes: {
            tcp: { port: sim.rtspPort },
            rtsp: { port: sim.rtspPort, path: sim.streamPath },
            onvif: { port: sim.httpPort, path: sim.onvifPath },
            snapshot: { url: sim.snapshotUrl },
          },
        },
      },
    });
    const { sub, gw, stop } = await startGatewayUnderTest(broker, config, `camera-e2e-${process.pid}`);
    cleanups.push(stop);

    const cam = () => sub.readings.filter((r) => r.device === 'cam-north');
    const stateEvents = () => cam().filter((r) => r.point === 'state' && r.kind === 'event');
    await sub.waitFor(() => stateEvents().some((r) => r.value === 'online'), 20_000);
    expect(stateEvents()[0]).toMatchObject({ value: 'online', quality: 'good', attrs: { previous: 'unknown', reason: 'ok' } });
    await sub.waitFor(() => cam().some((r) => r.point === 'latency.rtsp' && r.quality === 'good'), 20_000);
    expect(cam().find((r) => r.point === 'firmware')).toMatchObject({ value: '9.9', kind: 'event', attrs: { model: 'E2E-1' } });

    await sim.setFault('no-video');
    await sub.waitFor(() => stateEvents().some((r) => r.value === 'degraded'), 20_000);
    expect(stateEvents().find((r) => r.value === 'degraded')).toMatchObject({
      attrs: { previous: 'online', reason: 'rtsp:RTSP_NO_VIDEO' },
    });
    await sim.setFault('none');
    await sub.waitFor(() => stateEvents().filter((r) => r.value === 'online').length >= 2, 20_000);

    expect(sub.malformed).toEqual([]);
    expect((await gw.stop()).code).toBe(0);
    const published = JSON.stringify(sub.readings);
    const logged = JSON.stringify(gw.logs) + gw.stderr.join('\n');
    expect(published).not.toContain(PASSWORD);
    expect(logged).not.toContain(PASSWORD);
    expect(logged).toContain('cam-north'); // the daemon did log about this camera
  });
});
