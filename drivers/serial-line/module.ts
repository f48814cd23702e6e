import { serialPortFile, type DriverFamily, type DriverModule } from '../driver-module.js';
import { serialProbeVerb } from '../transport/serial/probe-verb.js';
import { linePoints } from './parse/compile.js';
import { serialLineDeviceSchema } from './schema.js';

export const serialLineDriver = {
  type: 'serial-line',
  schema: serialLineDeviceSchema,
  load: async () => (await import('./driver.js')).createSerialLineDriver,
  checkDevices: (devices) =>
    devices
      .filter((d) => d.delimiter !== undefined && d.terminator !== undefined)
      .map((d) => ({ device: d.id, path: ['delimiter'], message: 'give only terminator: delimiter is its old name' })),
  warnDevices: (devices) =>
    devices
      .filter((d) => d.delimiter !== undefined && d.terminator === undefined)
      .map((d) => ({ device: d.id, path: ['delimiter'], message: 'delimiter is deprecated: rename it to terminator (the same option scanners use); it is still read' })),
  opens: (d) => [serialPortFile(d.port.path)],
  pointNames: (d) => linePoints(d.parse).map((p) => p.name),
} satisfies DriverModule<typeof serialLineDeviceSchema>;

/** Line-oriented serial devices, and `edge-gateway probe serial` (what arrives on a line). */
export const serialLineFamily = { modules: [serialLineDriver], probe: serialProbeVerb } as const satisfies DriverFamily;
