/**
 * Every driver family the gateway knows, one line each: the `…Family` its module.ts exports
 * (drivers/driver-module.ts's DriverFamily). drivers/registry.ts takes everything else from here:
 * config types, schemas, doctor's checks and the `edge-gateway probe` verbs.
 */
export { barcodeFamily } from './barcode/module.js';
export { cameraFamily } from './camera/module.js';
export { gpioFamily } from './gpio/module.js';
export { modbusFamily } from './modbus/module.js';
export { opcuaFamily } from './opcua/module.js';
export { serialLineFamily } from './serial-line/module.js';
// FAMILY-EXPORTS (one line per driver family)
