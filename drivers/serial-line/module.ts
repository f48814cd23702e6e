import type { DriverModule } from '../registry.js';
import { serialLineDeviceSchema } from './schema.js';

export const serialLineDriver = {
  type: 'serial-line',
  schema: serialLineDeviceSchema,
  load: async () => (await import('./driver.js')).createSerialLineDriver,
} satisfies DriverModule<typeof serialLineDeviceSchema>;
