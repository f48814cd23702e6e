import { afterEach, describe, expect, it } from 'vitest';
import { startGstRtspServer, type GstRtspServerOptions } from '../../test-rigs/camera-sim/gst-rtsp-server.js';
import { ProbeError, type ProbeProgress } from './probe-result.js';
import { rtspProbe, type RtspProbeTarget } from './rtsp-probe.js';

/**
 * The RTSP client against GStreamer's RTSP server rather than our own simulator, so a mistake
 * shared by our client and our simulator cannot hide. Requires the Debian packages listed in
 * test-rigs/camera-sim/gst-rtsp-server.ts (CI installs them).
 */
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (stops.length) await stops.pop()!();
});

async function server(opts: GstRtspServerOptions) {
  const s = await startGstRtspServer(opts);
  stops.push(() => s.stop());
  return s;
}

async function probe(target: RtspProbeTarget): Promise<string> {
  const progress: ProbeProgress = { connected: false };
  try {
    await rtspProbe(target, AbortSignal.timeout(5000), progress);
    return 'ok';
  } catch (err) {
    if (err instanceof ProbeError) return err.code;
    throw err;
  }
}

describe('RTSP probe against gst-rtsp-server', () => {
  it('Digest auth: right password passes, wrong is AUTH_REJECTED, none is AUTH_REQUIRED', async () => {
    const s = await server({ username: 'viewer', password: 'gst-pw', auth: 'digest' });
    const base = { host: '127.0.0.1', port: s.port, path: s.path };
    expect(await probe({ ...base, username: 'viewer', password: 'gst-pw' })).toBe('ok');
    expect(await probe({ ...base, username: 'viewer', password: 'wrong' })).toBe('AUTH_REJECTED');
    expect(await probe(base)).toBe('AUTH_REQUIRED');
  });

  it('Basic auth is refused in clear by default and passes with the right password when allowed', async () => {
    const s = await server({ username: 'viewer', password: 'gst-pw', auth: 'basic' });
    const target = { host: '127.0.0.1', port: s.port, path: s.path, username: 'viewer', password: 'gst-pw' };
    expect(await probe(target)).toBe('AUTH_BASIC_REFUSED');
    expect(await probe({ ...target, allowBasicAuth: true })).toBe('ok');
  });

  it('an audio-only stream is RTSP_NO_VIDEO and an unknown path is RTSP_STATUS', async () => {
    const s = await server({ audioOnly: true });
    expect(await probe({ host: '127.0.0.1', port: s.port, path: s.path })).toBe('RTSP_NO_VIDEO');
    expect(await probe({ host: '127.0.0.1', port: s.port, path: '/nope' })).toBe('RTSP_STATUS');
  });
});
