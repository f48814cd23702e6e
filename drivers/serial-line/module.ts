import { serialPortFile, type DriverModule } from '../driver-module.js';
import { serialLineDeviceSchema } from './schema.js';

export const serialLineDriver = {
  type: 'serial-line',
  schema: serialLineDeviceSchema,
  load: async () => (await import('./driver.js')).createSerialLineDriver,
  opens: (d) => [serialPortFile(d.port.path)],
} satisfies DriverModule<typeof serialLineDeviceSchema>;

/** `edge-gateway probe serial`: what arrives on a line, loaded only when that command runs. */
export const loadSerialProbe = () => import('../transport/serial/probe-command.js');
