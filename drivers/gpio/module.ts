import type { DriverModule } from '../registry.js';
import { gpioDeviceSchema } from './schema.js';

export const gpioDriver = {
  type: 'gpio',
  schema: gpioDeviceSchema,
  // onoff (and its native epoll addon) is loaded later still, only when a pin is opened.
  load: async () => (await import('./driver.js')).createGpioDriver,
} satisfies DriverModule<typeof gpioDeviceSchema>;
