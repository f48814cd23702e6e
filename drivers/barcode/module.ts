import type { DriverModule } from '../registry.js';
import { barcodeEvdevDeviceSchema, barcodeSerialDeviceSchema } from './schema.js';

export const barcodeSerialDriver = {
  type: 'barcode-serial',
  schema: barcodeSerialDeviceSchema,
  load: async () => (await import('./serial-driver.js')).createBarcodeSerialDriver,
} satisfies DriverModule<typeof barcodeSerialDeviceSchema>;

export const barcodeEvdevDriver = {
  type: 'barcode-evdev',
  schema: barcodeEvdevDeviceSchema,
  load: async () => (await import('./evdev-driver.js')).createBarcodeEvdevDriver,
} satisfies DriverModule<typeof barcodeEvdevDeviceSchema>;
