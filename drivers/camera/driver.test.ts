import { afterEach, describe, expect, it } from 'vitest';
import { startCameraSim, type CameraFault, type CameraSim, type CameraSimOptions } from '../../test-rigs/camera-sim/camera-sim.js';
import { captureContext, waitFor, type CapturedContext } from '../../test-rigs/camera-sim/capture-context.js';
import type { DriverReading } from '../../gateway/model/reading.js';
import { CameraDriver } from './driver.js';
import { ProbeLimiter } from './probe-limiter.js';
import { cameraDeviceSchema } from './schema.js';

const USER = 'operator';
const PASS = 'S3cr3t-Pa55!';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function sim(opts: CameraSimOptions = {}): Promise<CameraSim> {
  const s = await startCameraSim({ username: USER, password: PASS, ...opts });
  cleanups.push(() => s.stop());
  return s;
}

function configFor(s: CameraSim, over: Record<string, unknown> = {}, timeoutMs = 1500) {
  return cameraDeviceSchema.parse({
    type: 'camera',
    id: 'cam-1',
    host: s.host,
    intervalMs: 1000,
    flapThreshold: 1,
    username: USER,
    password: PASS,
    probes: {
      tcp: { port: s.rtspPort, timeoutMs },
      rtsp: { port: s.rtspPort, path: s.streamPath, timeoutMs },
      onvif: { port: s.httpPort, path: s.onvifPath, timeoutMs },
      snapshot: { url: s.snapshotUrl, timeoutMs },
    },
    ...over,
  });
}

function run(cfg: ReturnType<typeof configFor>, captured = captureContext(cfg.id)) {
  const driver = new CameraDriver(cfg, captured.ctx, { limiter: new ProbeLimiter(8) });
  cleanups.push(() => driver.stop());
  return { driver, ...captured };
}

const stateEvents = (rs: DriverReading[]) => rs.filter((r) => r.point === 'state' && r.kind === 'event');

async function firstState(c: CapturedContext, timeoutMs = 8000): Promise<DriverReading> {
  await waitFor(() => stateEvents(c.readings).length > 0, timeoutMs, 'first state event');
  return stateEvents(c.readings)[0]!;
}

describe('camera driver against the camera simulator', () => {
  it('reports a healthy camera online with per-probe latency, state telemetry and ONVIF identity', async () => {
    const s = await sim({ model: 'SC-900', firmware: '4.2.1' });
    const c = run(configFor(s));
    await c.driver.start();
    const ev = await firstState(c);
    expect(ev).toMatchObject({ value: 'online', quality: 'good', attrs: { reason: 'ok', previous: 'unknown' } });
    // Telemetry every interval: wait for two cycles.
    await waitFor(() => c.readings.filter((r) => r.point === 'state' && r.kind === 'telemetry').length >= 2, 5000, 'second cycle');
    for (const probe of ['tcp', 'rtsp', 'onvif', 'snapshot']) {
      const lat = c.readings.filter((r) => r.point === `latency.${probe}`);
      expect(lat.length).toBeGreaterThanOrEqual(2);
      expect(lat[0]).toMatchObject({ quality: 'good', unit: 'ms', kind: 'telemetry' });
      expect(lat[0]!.value as number).toBeGreaterThanOrEqual(0);
    }
    const fw = c.readings.filter((r) => r.point === 'firmware');
    expect(fw).toHaveLength(1); // reported once, not every interval
    expect(fw[0]).toMatchObject({ value: '4.2.1', kind: 'event', attrs: { model: 'SC-900', manufacturer: 'SimCam & Co' } });
    const st = c.driver.status();
    expect(st.state).toBe('ok');
    expect(st.lastGoodTs).not.toBeNull();
    expect(st.detail).toMatchObject({ camera: 'online', device: { model: 'SC-900', firmware: '4.2.1', serial: 'SIM0001' } });
    expect(stateEvents(c.readings)).toHaveLength(1);
    // Digest on DESCRIBE: one challenged attempt then an authorised one per cycle.
    expect(s.stats.rtspRequests.DESCRIBE).toBeGreaterThanOrEqual(4);
  });

  const faultCases: { fault: CameraFault; state: string; reasons: string[]; sim?: CameraSimOptions; timeoutMs?: number }[] = [
    { fault: 'auth-rejected', state: 'degraded', reasons: ['rtsp:AUTH_REJECTED', 'onvif:AUTH_REJECTED', 'snapshot:AUTH_REJECTED'] },
    { fault: 'no-video', state: 'degraded', reasons: ['rtsp:RTSP_NO_VIDEO'] },
    { fault: 'hang', state: 'degraded', reasons: ['rtsp:ETIMEDOUT', 'onvif:ETIMEDOUT', 'snapshot:ETIMEDOUT'], timeoutMs: 400 },
    { fault: 'http-500', state: 'degraded', reasons: ['onvif:ONVIF_FAULT', 'snapshot:SNAPSHOT_HTTP_STATUS'] },
    { fault: 'refused', state: 'offline', reasons: ['tcp:ECONNREFUSED', 'rtsp:ECONNREFUSED', 'onvif:ECONNREFUSED', 'snapshot:ECONNREFUSED'] },
    { fault: 'slow', state: 'degraded', reasons: ['rtsp:ETIMEDOUT', 'onvif:ETIMEDOUT', 'snapshot:ETIMEDOUT'], sim: { slowMs: 1500 }, timeoutMs: 400 },
    { fault: 'garbage', state: 'degraded', reasons: ['rtsp:RTSP_BAD_RESPONSE'] },
    { fault: 'snapshot-not-image', state: 'degraded', reasons: ['snapshot:SNAPSHOT_NOT_IMAGE'] },
  ];

  for (const fc of faultCases) {
    it(`fault ${fc.fault} -> ${fc.state} (${fc.reasons.join(',')})`, async () => {
      const s = await sim(fc.sim);
      await s.setFault(fc.fault);
      const c = run(configFor(s, {}, fc.timeoutMs));
      await c.driver.start();
      const ev = await firstState(c);
      expect(ev.value).toBe(fc.state);
      // offline is inferred from silence, so it is not claimed as a good reading of the camera
      expect(ev.quality).toBe(fc.state === 'offline' ? 'uncertain' : 'good');
      expect(String(ev.attrs?.reason).split(',').sort()).toEqual([...fc.reasons].sort());
      expect(typeof ev.attrs?.message).toBe('string');
      expect(c.driver.status().state).toBe(fc.state === 'offline' ? 'down' : 'degraded');
      const failed = fc.reasons.map((r) => r.split(':')[0]);
      for (const probe of failed) {
        expect(c.readings.find((r) => r.point === `latency.${probe}`)).toMatchObject({ value: null, quality: 'bad' });
      }
    });
  }

  it('a camera that is slow but within the timeout is online, and its latency shows the delay', async () => {
    const s = await sim({ slowMs: 150 });
    await s.setFault('slow');
    const c = run(configFor(s, {}, 3000));
    await c.driver.start();
    expect((await firstState(c)).value).toBe('online');
    const rtsp = c.readings.find((r) => r.point === 'latency.rtsp')!;
    // OPTIONS + challenged DESCRIBE + authorised DESCRIBE, each delayed 150 ms.
    expect(rtsp.value as number).toBeGreaterThanOrEqual(400);
  });

  it('a hang on RTSP only keeps the camera degraded, not offline, and the hung socket is released', async () => {
    const s = await sim();
    await s.setFault('hang', 'rtsp');
    const c = run(configFor(s, {}, 300));
    await c.driver.start();
    const ev = await firstState(c);
    expect(ev).toMatchObject({ value: 'degraded', attrs: { reason: 'rtsp:ETIMEDOUT' } });
    expect(String(ev.attrs?.message)).toContain('connected, then camera went silent');
    await c.driver.stop();
    expect(c.driver.status().state).toBe('stopped');
  });

  it('a TCP-only camera that accepts and never answers is online, and status says the state rests on a TCP connect alone', async () => {
    const s = await sim();
    await s.setFault('hang', 'rtsp');
    const c = run(configFor(s, { probes: { tcp: { port: s.rtspPort, timeoutMs: 300 } } }));
    await c.driver.start();
    expect((await firstState(c)).value).toBe('online');
    const st = c.driver.status();
    expect(st.state).toBe('ok');
    expect(st.stateReason).toBe('online: tcp probe passed; tcp connect only: proves the camera accepts connections, not that it streams (add an rtsp, onvif or snapshot probe)');
    expect(st.detail).toMatchObject({ camera: 'online', probes: ['tcp'] });
  });

  it('wrong configured password -> degraded with AUTH_REJECTED, Basic RTSP auth and auth on OPTIONS work', async () => {
    const s = await sim();
    const wrong = run(configFor(s, { id: 'cam-wrong', password: 'not-it' }));
    await wrong.driver.start();
    const ev = await firstState(wrong);
    expect(ev.value).toBe('degraded');
    expect(String(ev.attrs?.reason).split(',').sort()).toEqual(['onvif:AUTH_REJECTED', 'rtsp:AUTH_REJECTED', 'snapshot:AUTH_REJECTED']);

    const basic = await sim({ rtspAuth: 'basic', authOnOptions: true });
    const ok = run(configFor(basic, { id: 'cam-basic', allowBasicAuth: true }));
    await ok.driver.start();
    expect((await firstState(ok)).value).toBe('online');
    expect(basic.stats.rtspRequests.OPTIONS).toBeGreaterThanOrEqual(2); // challenged, then answered
  });

  it('never sends Basic auth in clear unless the device file allows it: degraded AUTH_BASIC_REFUSED, saying why', async () => {
    const s = await sim({ rtspAuth: 'basic', snapshotAuth: 'basic' });
    const c = run(configFor(s, { id: 'cam-basic-refused' }));
    await c.driver.start();
    const ev = await firstState(c);
    expect(ev.value).toBe('degraded');
    expect(String(ev.attrs?.reason).split(',').sort()).toEqual(['rtsp:AUTH_BASIC_REFUSED', 'snapshot:AUTH_BASIC_REFUSED']);
    expect(String(ev.attrs?.message)).toContain('DESCRIBE: camera offers only Basic auth, which would send the password in clear over rtsp; not sent (set allowBasicAuth: true in the device file to permit it)');
    expect(String(ev.attrs?.message)).toContain('snapshot: camera offers only Basic auth, which would send the password in clear over http; not sent (set allowBasicAuth: true in the device file to permit it, or use https)');
    // Challenged once per cycle and never answered: no Authorization header ever left the driver.
    expect(s.stats.rtspRequests.DESCRIBE).toBe(c.driver.status().counters.cycles);

    const allowed = run(configFor(s, { id: 'cam-basic-allowed', allowBasicAuth: true }));
    await allowed.driver.start();
    expect((await firstState(allowed)).value).toBe('online');
  });

  it('no credentials configured on a camera that wants them -> degraded AUTH_REQUIRED; ONVIF date/time still passes', async () => {
    const s = await sim();
    const cfg = configFor(s, { username: undefined, password: undefined });
    const c = run(cfg);
    await c.driver.start();
    const ev = await firstState(c);
    expect(ev.value).toBe('degraded');
    expect(String(ev.attrs?.reason).split(',').sort()).toEqual(['rtsp:AUTH_REQUIRED', 'snapshot:AUTH_REQUIRED']);
  });

  it('dates the WS-UsernameToken in the camera clock, so a camera 10 minutes ahead still authenticates', async () => {
    const s = await sim({ clockSkewMs: 600_000 });
    const c = run(configFor(s));
    await c.driver.start();
    expect((await firstState(c)).value).toBe('online');
    const skew = c.driver.status().detail?.clockSkewMs as number;
    expect(skew).toBeGreaterThan(590_000);
    expect(skew).toBeLessThan(610_000);
  });

  it('reports a firmware change as an event with the previous version', async () => {
    const s = await sim({ firmware: '1.0.0' });
    const c = run(configFor(s));
    await c.driver.start();
    await waitFor(() => c.readings.some((r) => r.point === 'firmware'), 5000, 'firmware event');
    s.setFirmware('1.1.0');
    await waitFor(() => c.readings.filter((r) => r.point === 'firmware').length >= 2, 5000, 'second firmware event');
    const fw = c.readings.filter((r) => r.point === 'firmware');
    expect(fw[1]).toMatchObject({ value: '1.1.0', attrs: { previous: '1.0.0' } });
  });

  it('damps flapping: alternating failures never change state; a persistent one does after flapThreshold cycles', async () => {
    const s = await sim();
    const c = run(configFor(s, { flapThreshold: 3 }));
    const cycles = () => c.driver.status().counters.cycles ?? 0;
    await c.driver.start();
    expect((await firstState(c)).value).toBe('online');
    // Flip the fault after every completed cycle: bad, good, bad, good, bad.
    for (let i = 0; i < 5; i++) {
      const n = cycles();
      await s.setFault(i % 2 === 0 ? 'no-video' : 'none');
      await waitFor(() => cycles() > n, 5000, `cycle ${n + 1}`);
    }
    expect(stateEvents(c.readings)).toHaveLength(1);
    expect(c.driver.status().detail?.pending).toMatchObject({ state: 'degraded', streak: 1 });
    // status says what is true now: online, on which probes, and that the latest check disagrees.
    const pending = c.driver.status();
    expect(pending.state).toBe('ok');
    expect(pending.stateReason).toMatch(/^online: all probes passed \(tcp, rtsp, onvif, snapshot\); latest check: degraded: rtsp:RTSP_NO_VIDEO \(.*\) \(not yet 3 in a row\)$/);
    expect(pending.lastError).toMatchObject({ code: 'RTSP_NO_VIDEO' });
    // The last flip left the fault on; two more bad cycles make three in a row.
    await s.setFault('no-video');
    await waitFor(() => stateEvents(c.readings).length >= 2, 6000, 'damped state change');
    const change = stateEvents(c.readings)[1]!;
    expect(change).toMatchObject({ value: 'degraded', attrs: { previous: 'online', reason: 'rtsp:RTSP_NO_VIDEO' } });
    const now = c.driver.status();
    expect(now.stateReason).toMatch(/^degraded: rtsp:RTSP_NO_VIDEO \(/);
    expect(now.stateSince).toBe(change.ts);
    // Telemetry kept reporting the damped state while the flap was pending.
    const telem = c.readings.filter((r) => r.point === 'state' && r.kind === 'telemetry').map((r) => r.value);
    expect(telem.slice(0, 6).every((v) => v === 'online')).toBe(true);
  });

  it('never lets credentials reach readings, log output, status or the config object', async () => {
    const echo = `echo-${PASS}-echo`;
    const basicBlob = Buffer.from(`${USER}:${PASS}`).toString('base64');
    const s = await sim({ rtspAuth: 'basic', faultText: echo });
    const c = run(configFor(s, { allowBasicAuth: true }));
    await c.driver.start();
    await firstState(c);
    for (const f of ['auth-rejected', 'http-500', 'hang'] as const) {
      const n = c.driver.status().counters.cycles ?? 0;
      await s.setFault(f);
      await waitFor(() => (c.driver.status().counters.cycles ?? 0) > n + 1, 8000, `cycles under ${f}`);
    }
    // A second camera that echoes the (wrong) password this driver sent it.
    const WRONG = 'Wr0ng-guess';
    const s2 = await sim({ rtspAuth: 'basic', faultText: `echo-${WRONG}-echo` });
    const wrongCtx = captureContext('cam-wrong');
    const wrong = run(configFor(s2, { id: 'cam-wrong', password: WRONG, allowBasicAuth: true }), wrongCtx);
    await wrong.driver.start();
    await firstState(wrong);

    const everything = [
      c.logText(),
      wrongCtx.logText(),
      JSON.stringify(c.readings),
      JSON.stringify(wrong.readings),
      JSON.stringify(c.driver.status()),
      JSON.stringify(wrong.driver.status()),
      JSON.stringify(configFor(s)),
    ].join('\n');
    // The driver did see the camera echo the password in a SOAP fault...
    expect(everything).toContain('echo-[redacted]-echo');
    expect(c.logs().some((l) => l.msg === 'camera probe failed')).toBe(true);
    // ...and nothing that reveals it got out.
    expect(everything).not.toContain(PASS);
    expect(everything).not.toContain(basicBlob);
    expect(everything).not.toContain(encodeURIComponent(PASS));
    expect(everything).not.toContain(WRONG);
    expect(everything).not.toContain(Buffer.from(`${USER}:${WRONG}`).toString('base64'));
  });

  it('stops cleanly mid-probe: no readings after stop resolves', async () => {
    const s = await sim();
    await s.setFault('hang');
    const c = run(configFor(s, {}, 5000));
    await c.driver.start();
    await waitFor(() => s.stats.rtspConnections > 0, 3000, 'probe in flight');
    const t0 = Date.now();
    await c.driver.stop();
    expect(Date.now() - t0).toBeLessThan(4000); // did not wait out the 5 s probe timeout
    const n = c.readings.length;
    await new Promise((r) => setTimeout(r, 1200));
    expect(c.readings.length).toBe(n);
  });
});
