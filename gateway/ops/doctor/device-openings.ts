import type { DeviceOpening } from '../../../drivers/driver-module.js';
import { driverModuleFor, type DeviceConfig } from '../../../drivers/registry.js';

/** What a configured device opens, as its family declares it. */
export function openingsOf(d: DeviceConfig): DeviceOpening[] {
  const family = driverModuleFor(d.type);
  // The config loader accepts only registered types, so a miss here is a programming error.
  if (!family) throw new Error(`no driver module for device type "${d.type}"`);
  return family.opens(d);
}
