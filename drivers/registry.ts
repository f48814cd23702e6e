import { z } from 'zod';
import type { DriverFactory } from './driver.js';
import { modbusRtuDriver, modbusTcpDriver } from './modbus/module.js';
import { cameraDriver } from './camera/module.js';
import { barcodeEvdevDriver, barcodeSerialDriver } from './barcode/module.js';
import { serialLineDriver } from './serial-line/module.js';
import { gpioDriver } from './gpio/module.js';
import { opcuaDriver } from './opcua/module.js';
// DRIVER-IMPORTS (one import line per driver family, keep alphabetical-ish)

/**
 * One entry per config `type`. The schema is cheap and always loaded, so config can be checked
 * without loading any driver; `load` pulls the driver code in only when a device of that type
 * is configured (node-opcua alone costs tens of MB).
 */
export interface DriverModule<S extends z.ZodType = z.ZodType> {
  type: string;
  schema: S;
  load(): Promise<DriverFactory<z.output<S>>>;
  /**
   * Checks that span device files of this type (e.g. RS-485 units sharing one port), run by the
   * config loader after each file is valid on its own, so check-config catches them too.
   */
  checkDevices?(devices: z.output<S>[]): CrossDeviceProblem[];
  /** Like checkDevices, but what it finds is a warning (a deprecated option name): the config still loads. */
  warnDevices?(devices: z.output<S>[]): CrossDeviceProblem[];
}

export interface CrossDeviceProblem {
  device: string;
  path: (string | number)[];
  message: string;
}

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
