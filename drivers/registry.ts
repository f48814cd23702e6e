import { z } from 'zod';
import type { DriverFamily, DriverModule } from './driver-module.js';
import * as families from './families.js';
import type { ProbeVerb } from './probe-verb.js';

/**
 * The one place that maps a config `type` to its driver family. Families are listed in
 * drivers/families.ts, one line each; nothing here names a family.
 */

export type { CrossDeviceProblem, DriverModule } from './driver-module.js';

type Family = (typeof families)[keyof typeof families];

export const driverFamilies: readonly Family[] = Object.values(families);

type Module = Family['modules'][number];

export const driverModules: readonly Module[] = driverFamilies.flatMap((f): readonly Module[] => f.modules);

type Schemas = Module['schema'];

export const deviceConfigSchema = z.discriminatedUnion(
  'type',
  driverModules.map((m) => m.schema) as unknown as [Schemas, ...Schemas[]],
);

export type DeviceConfig = z.output<typeof deviceConfigSchema>;

export function driverModuleFor(type: string): DriverModule | undefined {
  return (driverModules as readonly DriverModule[]).find((m) => m.type === type);
}

/** The `edge-gateway probe <name>` commands the families contribute. */
export function probeVerbs(): ProbeVerb[] {
  return (driverFamilies as readonly DriverFamily[]).flatMap((f) => (f.probe ? [f.probe] : []));
}
