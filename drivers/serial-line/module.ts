import { serialPortFile, type DriverModule } from '../driver-module.js';
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
} satisfies DriverModule<typeof serialLineDeviceSchema>;

/** `edge-gateway probe serial`: what arrives on a line, loaded only when that command runs. */
export const loadSerialProbe = () => import('../transport/serial/probe-command.js');
