import type { WritablePoint, WriteRequest, WriteResult } from '../../drivers/writable-point.js';
import { WriteRefused } from '../../drivers/writable-point.js';
import { driverModuleFor, type DeviceConfig, type DriverModule } from '../../drivers/registry.js';
import type { DeviceSet } from '../devices.js';
import type { CommandTargets } from './command-runner.js';

/**
 * The command channel's view of the devices: which points the device files declare writable
 * (asked of each family through its module, so the core never switches on a type) and the
 * running driver that writes them. Rebuilt from the config on every start and reload.
 */
export class DeviceTargets implements CommandTargets {
  private points = new Map<string, WritablePoint>();

  constructor(
    private readonly devices: Pick<DeviceSet, 'driverOf'>,
    private readonly moduleFor: (type: string) => DriverModule | undefined = driverModuleFor,
  ) {}

  /** Take the declared points of a (re)loaded config. Disabled devices declare nothing. */
  update(configs: readonly DeviceConfig[]): void {
    const points = new Map<string, WritablePoint>();
    for (const c of configs) {
      if (!c.enabled) continue;
      for (const p of this.moduleFor(c.type)?.writablePoints?.(c) ?? []) points.set(key(c.id, p.policy.name), p);
    }
    this.points = points;
  }

  /** Every declared writable point, for doctor and status. */
  all(): WritablePoint[] {
    return [...this.points.values()];
  }

  point(device: string, point: string): WritablePoint | undefined {
    return this.points.get(key(device, point));
  }

  validate(device: string, point: string, request: WriteRequest): string | null {
    return this.point(device, point)?.validate?.(request) ?? null;
  }

  async write(device: string, point: string, request: WriteRequest): Promise<WriteResult> {
    const run = this.devices.driverOf(device);
    if (!run?.driver) throw Object.assign(new Error(`device "${device}" is not running (down, failed to start, or disabled)`), { code: 'DEVICE_DOWN' });
    if (!run.driver.write) throw new WriteRefused('not-writable', `the ${run.config.type} driver of "${device}" cannot write`);
    return run.driver.write(point, request);
  }
}

function key(device: string, point: string): string {
  return `${device}\u0000${point}`;
}
