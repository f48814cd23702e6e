import type { DriverFamily, DriverModule } from '../driver-module.js';
import { templateDeviceSchema } from './schema.js';

/**
 * TEMPLATE: what the rest of the gateway knows about this family. Register it with one line in
 * drivers/families.ts: `export { templateFamily } from './template/module.js';`. `load` keeps the
 * driver code out of processes that have no device of this type.
 */
export const templateDriver = {
  type: 'template',
  schema: templateDeviceSchema,
  load: async () => (await import('./driver.js')).createTemplateDriver,
  // Every file or address the driver opens, so `edge-gateway doctor` checks it.
  opens: (d) => [{ kind: 'file', path: d.path, access: 'read', what: 'value file', group: 'root', missingHint: 'does the device expose this file?' }],
  // The points its readings name, so a `report.points` override naming another is refused.
  pointNames: (d) => [d.point],
  emitsStateEvents: true,
} satisfies DriverModule<typeof templateDeviceSchema>;

/**
 * TEMPLATE: the family as drivers/families.ts takes it. For an `edge-gateway probe <name>`
 * command add `probe`: flags and bounds as data and a lazy `run` (drivers/probe-verb.ts; see
 * drivers/modbus/probe-verb.ts).
 */
export const templateFamily = { modules: [templateDriver] } as const satisfies DriverFamily;
