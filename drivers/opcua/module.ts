import type { DriverModule } from '../registry.js';
import { opcuaDeviceSchema } from './schema.js';

export const opcuaDriver = {
  type: 'opcua',
  schema: opcuaDeviceSchema,
  // node-opcua is imported inside driver.ts at start(), so even loading the factory stays light.
  load: async () => (await import('./driver.js')).createOpcuaDriver,
} satisfies DriverModule<typeof opcuaDeviceSchema>;
