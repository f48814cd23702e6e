import { driverContractSuite } from '../../test-rigs/driver-contract.js';
import { startCameraSim } from '../../test-rigs/camera-sim/camera-sim.js';
import { CameraDriver } from './driver.js';
import { ProbeLimiter } from './probe-limiter.js';
import { cameraDeviceSchema } from './schema.js';

driverContractSuite('camera', async () => {
  const sim = await startCameraSim({ username: 'viewer', password: 'contract-pw' });
  const config = cameraDeviceSchema.parse({
    type: 'camera',
    id: 'contract-camera',
    host: sim.host,
    intervalMs: 1000, // the schema's floor: cameras are not polled faster than once a second
    flapThreshold: 1,
    username: 'viewer',
    password: 'contract-pw',
    probes: {
      tcp: { port: sim.rtspPort, timeoutMs: 500 },
      rtsp: { port: sim.rtspPort, path: sim.streamPath, timeoutMs: 500 },
      onvif: { port: sim.httpPort, path: sim.onvifPath, timeoutMs: 500 },
      snapshot: { url: sim.snapshotUrl, timeoutMs: 500 },
    },
  });
  return {
    create: (ctx) => new CameraDriver(config, ctx, { limiter: new ProbeLimiter(8) }),
    healthy: () => sim.setFault('none'),
    breakDevice: () => sim.setFault('refused'),
    teardown: () => sim.stop(),
  };
});
