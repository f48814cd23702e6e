import { serialPortFile, type DriverFamily, type DriverModule } from '../driver-module.js';
import { barcodeEvdevDeviceSchema, barcodeSerialDeviceSchema } from './schema.js';

export const barcodeSerialDriver = {
  type: 'barcode-serial',
  schema: barcodeSerialDeviceSchema,
  load: async () => (await import('./serial-driver.js')).createBarcodeSerialDriver,
  opens: (d) => [serialPortFile(d.port.path)],
  pointNames: (d) => [d.point],
} satisfies DriverModule<typeof barcodeSerialDeviceSchema>;

export const barcodeEvdevDriver = {
  type: 'barcode-evdev',
  schema: barcodeEvdevDeviceSchema,
  load: async () => (await import('./evdev-driver.js')).createBarcodeEvdevDriver,
  opens: (d) => [
    { kind: 'file', path: d.path, access: 'read', what: 'input device', group: 'input', missingHint: 'is the scanner plugged in? list candidates with: ls -l /dev/input/by-id/' },
  ],
  pointNames: (d) => [d.point],
} satisfies DriverModule<typeof barcodeEvdevDeviceSchema>;

/** Barcode scanners on a serial line or an input device. */
export const barcodeFamily = { modules: [barcodeSerialDriver, barcodeEvdevDriver] } as const satisfies DriverFamily;
