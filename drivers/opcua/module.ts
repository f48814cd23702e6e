import type { DriverFamily, DriverModule } from '../driver-module.js';
import { opcuaDeviceSchema } from './schema.js';
import { opcuaWritablePoints } from './writes.js';

export const opcuaDriver = {
  type: 'opcua',
  schema: opcuaDeviceSchema,
  // node-opcua is imported inside driver.ts at start(), so even loading the factory stays light.
  load: async () => (await import('./driver.js')).createOpcuaDriver,
  opens: (d) => {
    const { hostname, port } = new URL(d.endpointUrl.replace(/^opc\.tcp:/, 'http:'));
    return [{ kind: 'tcp', host: hostname.replace(/^\[|\]$/g, ''), port: port === '' ? 4840 : Number(port), what: 'OPC-UA endpoint' }];
  },
  writablePoints: (d) => opcuaWritablePoints(d.id, d.writes),
  pointNames: (d) => d.items.map((i) => i.point),
  emitsStateEvents: true,
} satisfies DriverModule<typeof opcuaDeviceSchema>;

export const opcuaFamily = { modules: [opcuaDriver] } as const satisfies DriverFamily;
