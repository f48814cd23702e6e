import type { DriverModule } from '../registry.js';
import { cameraDeviceSchema } from './schema.js';

export const cameraDriver = {
  type: 'camera',
  schema: cameraDeviceSchema,
  load: async () => (await import('./camera-driver.js')).createCameraDriver,
} satisfies DriverModule<typeof cameraDeviceSchema>;
