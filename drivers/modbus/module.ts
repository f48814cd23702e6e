import { serialPortFile, type DriverFamily, type DriverModule } from '../driver-module.js';
import { modbusProbeVerb } from './probe-verb.js';
import { checkRtuBuses, modbusRtuDeviceSchema, modbusTcpDeviceSchema } from './schema.js';
import { modbusWritablePoints } from './writes.js';

export const modbusTcpDriver = {
  type: 'modbus-tcp',
  schema: modbusTcpDeviceSchema,
  load: async () => (await import('./tcp-driver.js')).createModbusTcpDriver,
  opens: (d) => [{ kind: 'tcp', host: d.host, port: d.port, what: 'Modbus TCP' }],
  loadAnswerCheck: async () => (await import('./answer-check.js')).checkModbusTcpAnswers,
  writablePoints: (d) => modbusWritablePoints(d.id, d.writes),
  pointNames: (d) => d.registers.map((r) => r.name),
  emitsStateEvents: true,
} satisfies DriverModule<typeof modbusTcpDeviceSchema>;

export const modbusRtuDriver = {
  type: 'modbus-rtu',
  schema: modbusRtuDeviceSchema,
  load: async () => (await import('./rtu-driver.js')).createModbusRtuDriver,
  checkDevices: checkRtuBuses,
  opens: (d) => [serialPortFile(d.port.path)],
  writablePoints: (d) => modbusWritablePoints(d.id, d.writes),
  pointNames: (d) => d.registers.map((r) => r.name),
  emitsStateEvents: true,
} satisfies DriverModule<typeof modbusRtuDeviceSchema>;

/** Modbus TCP and RTU, and `edge-gateway probe modbus` for both. */
export const modbusFamily = { modules: [modbusTcpDriver, modbusRtuDriver], probe: modbusProbeVerb } as const satisfies DriverFamily;

export type { ProbeSweep } from './probe-command.js';
