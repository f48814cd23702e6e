import { join } from 'node:path';
import { actionsOf } from '../writable-point.js';
import type { DriverFamily, DriverModule } from '../driver-module.js';
import { gpioDeviceSchema, inputPoints } from './schema.js';

export const gpioDriver = {
  type: 'gpio',
  schema: gpioDeviceSchema,
  // onoff (and its native epoll addon) is loaded later still, only when a pin is opened.
  load: async () => (await import('./driver.js')).createGpioDriver,
  // onoff exports pins by writing to <sysfs>/export.
  opens: (d) => [
    { kind: 'file', path: join(d.sysfsRoot, 'export'), access: 'write', what: 'GPIO sysfs export', group: 'gpio', missingHint: 'is this a Raspberry Pi with the GPIO sysfs interface enabled?' },
  ],
  writablePoints: (d) =>
    d.outputs.map((o) => ({
      device: d.id,
      policy: o,
      actions: actionsOf(o),
      ...(o.pulse && { pulse: o.pulse }),
      valueType: 'boolean',
    })),
  pointNames: (d) => d.inputs.flatMap(inputPoints).map((p) => p.name),
} satisfies DriverModule<typeof gpioDeviceSchema>;

export const gpioFamily = { modules: [gpioDriver] } as const satisfies DriverFamily;
