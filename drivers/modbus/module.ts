import type { DriverModule } from '../registry.js';
import { modbusTcpDeviceSchema } from './schema.js';

export const modbusTcpDriver = {
  type: 'modbus-tcp',
  schema: modbusTcpDeviceSchema,
  load: async () => (await import('./tcp-driver.js')).createModbusTcpDriver,
} satisfies DriverModule<typeof modbusTcpDeviceSchema>;
