import type { DeviceAddress, DriverFamily, DriverModule } from '../driver-module.js';
import { cameraDeviceSchema, probeNames, type CameraDeviceConfig } from './schema.js';

export const cameraDriver = {
  type: 'camera',
  schema: cameraDeviceSchema,
  load: async () => (await import('./driver.js')).createCameraDriver,
  opens: cameraAddresses,
  // `state` (telemetry every round, an event on change), the configured probes' latency, firmware events.
  pointNames: (d) => ['state', 'firmware', ...probeNames.filter((p) => d.probes[p] !== undefined).map((p) => `latency.${p}`)],
  emitsStateEvents: true,
} satisfies DriverModule<typeof cameraDeviceSchema>;

/** The ports the camera's configured probes connect to; the snapshot URL names its own host. */
function cameraAddresses(d: CameraDeviceConfig): DeviceAddress[] {
  const p = d.probes;
  const out: DeviceAddress[] = [];
  if (p.tcp) out.push({ kind: 'tcp', host: d.host, port: p.tcp.port, what: 'camera TCP' });
  if (p.rtsp) out.push({ kind: 'tcp', host: d.host, port: p.rtsp.port, what: 'camera RTSP' });
  if (p.onvif) out.push({ kind: 'tcp', host: d.host, port: p.onvif.port, what: 'camera ONVIF' });
  if (p.snapshot) {
    const u = new URL(p.snapshot.url);
    out.push({ kind: 'tcp', host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port === '' ? (u.protocol === 'https:' ? 443 : 80) : Number(u.port), what: 'camera snapshot' });
  }
  return out;
}

export const cameraFamily = { modules: [cameraDriver] } as const satisfies DriverFamily;
