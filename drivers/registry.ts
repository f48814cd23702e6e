import { z } from 'zod';
import type { DriverModule } from './driver-module.js';
import { modbusRtuDriver, modbusTcpDriver } from './modbus/module.js';
import { cameraDriver } from './camera/module.js';
import { barcodeEvdevDriver, barcodeSerialDriver } from './barcode/module.js';
import { serialLineDriver } from './serial-line/module.js';
import { gpioDriver } from './gpio/module.js';
import { opcuaDriver } from './opcua/module.js';
// DRIVER-IMPORTS (one import line per driver family)

export type { CrossDeviceProblem, DriverModule } from './driver-module.js';

export const driverModules = [
  modbusTcpDriver,
  cameraDriver,
  serialLineDriver,
  barcodeSerialDriver,
  barcodeEvdevDriver,
  gpioDriver,
  opcuaDriver,
  modbusRtuDriver,
  // DRIVER-ENTRIES (one line per driver module)
] as const;

type Schemas = (typeof driverModules)[number]['schema'];

export const deviceConfigSchema = z.discriminatedUnion(
  'type',
  driverModules.map((m) => m.schema) as unknown as [Schemas, ...Schemas[]],
);

export type DeviceConfig = z.output<typeof deviceConfigSchema>;

export function driverModuleFor(type: string): DriverModule | undefined {
  return (driverModules as readonly DriverModule[]).find((m) => m.type === type);
}
