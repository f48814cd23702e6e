import type { DriverModule } from '../registry.js';
import { checkRtuBuses, modbusRtuDeviceSchema, modbusTcpDeviceSchema } from './schema.js';

export const modbusTcpDriver = {
  type: 'modbus-tcp',
  schema: modbusTcpDeviceSchema,
  load: async () => (await import('./tcp-driver.js')).createModbusTcpDriver,
} satisfies DriverModule<typeof modbusTcpDeviceSchema>;

export const modbusRtuDriver = {
  type: 'modbus-rtu',
  schema: modbusRtuDeviceSchema,
  load: async () => (await import('./rtu-driver.js')).createModbusRtuDriver,
  checkDevices: checkRtuBuses,
} satisfies DriverModule<typeof modbusRtuDeviceSchema>;
