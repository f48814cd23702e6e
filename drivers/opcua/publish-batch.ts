import type { DriverReading } from '../../gateway/model/reading.js';
import type { DriverContext } from '../driver.js';
import { PackingEmitter } from '../kit/packing-emitter.js';
import { PointSet } from '../kit/point-set.js';
import type { OpcuaItemConfig } from './schema.js';

/**
 * The data changes of one publish response, handed to the core together so that good values
 * that share a source timestamp travel packed, as one payload v2 poll record per timestamp
 * (drivers/kit/packing-emitter.ts), instead of one reading object each.
 *
 * OPC-UA has no poll here: every value arrives through the subscription, one `changed` event per
 * monitored item. node-opcua raises all the `changed` events of one publish response in one
 * synchronous loop (ClientSubscription.__on_publish_response_DataChangeNotification), so the
 * readings collected until the next microtask are exactly one publish response's. The points
 * (each item's point and unit) are compiled once per device config; a publish carries only the
 * items that changed, so a record's layout is the subset that changed with that timestamp
 * (cached per subset, at most 256 per device: past that, new subsets go as plain readings).
 * Values keep their own source timestamps: items sampled at different instants are different
 * records, never one record with a borrowed `ts`.
 */
export class PublishBatch {
  private readonly emitter: PackingEmitter;
  private pending: DriverReading[] = [];

  constructor(items: readonly OpcuaItemConfig[], ctx: DriverContext) {
    this.emitter = new PackingEmitter(new PointSet(items.map((i) => ({ name: i.point, unit: i.unit }))), ctx);
  }

  add(reading: DriverReading): void {
    this.pending.push(reading);
    if (this.pending.length === 1) queueMicrotask(() => this.flush());
  }

  /** Hand over what was collected (at the end of a publish response, and before the driver stops). */
  flush(): void {
    if (this.pending.length === 0) return;
    const readings = this.pending;
    this.pending = [];
    this.emitter.emit(readings);
  }
}
