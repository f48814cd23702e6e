import { serialPortFile, type DriverModule } from '../driver-module.js';
import { checkRtuBuses, modbusRtuDeviceSchema, modbusTcpDeviceSchema } from './schema.js';
import { modbusWritablePoints } from './writes.js';

export const modbusTcpDriver = {
  type: 'modbus-tcp',
  schema: modbusTcpDeviceSchema,
  load: async () => (await import('./tcp-driver.js')).createModbusTcpDriver,
  opens: (d) => [{ kind: 'tcp', host: d.host, port: d.port, what: 'Modbus TCP' }],
  loadAnswerCheck: async () => (await import('./answer-check.js')).checkModbusTcpAnswers,
  writablePoints: (d) => modbusWritablePoints(d.id, d.writes),
} satisfies DriverModule<typeof modbusTcpDeviceSchema>;

export const modbusRtuDriver = {
  type: 'modbus-rtu',
  schema: modbusRtuDeviceSchema,
  load: async () => (await import('./rtu-driver.js')).createModbusRtuDriver,
  checkDevices: checkRtuBuses,
  opens: (d) => [serialPortFile(d.port.path)],
  writablePoints: (d) => modbusWritablePoints(d.id, d.writes),
} satisfies DriverModule<typeof modbusRtuDeviceSchema>;

/** `edge-gateway probe modbus` (RTU and TCP), loaded only when that command runs. */
export const loadModbusProbe = () => import('./probe-command.js');
export type { ProbeSweep } from './probe-command.js';
