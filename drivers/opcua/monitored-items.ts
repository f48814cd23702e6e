import type * as OpcuaLib from 'node-opcua';
import type { DriverReading } from '../../gateway/model/reading.js';
import type { Lib } from './library.js';
import { withNamespaceIndex } from './node-id.js';
import { qualityFromStatusCode } from './quality.js';
import type { OpcuaItemConfig } from './schema.js';
import { readingValueFromVariant } from './value.js';

/**
 * One configured item on the server: creating its monitored item in a subscription, what its
 * data changes become as readings, and what status shows of it. The driver owns the session and
 * the device's state; this module knows one item at a time.
 */

export interface ItemState {
  readonly cfg: OpcuaItemConfig;
  status: 'pending' | 'ok' | 'error';
  error: string | null;
  lastTs: number | null;
  notifications: number;
}

export function itemStates(items: readonly OpcuaItemConfig[]): ItemState[] {
  return items.map((cfg) => ({ cfg, status: 'pending', error: null, lastTs: null, notifications: 0 }));
}

/** What the driver does with an item's events. */
export interface ItemEvents {
  changed(dv: OpcuaLib.DataValue): void;
  failed(err: unknown): void;
  initialized(): void;
}

/** How long one item may take to be accepted or refused before the next one is created. */
const ITEM_ANSWER_MS = 15_000;

/**
 * Creates the item's monitored item and waits until the server accepted or refused it (at most
 * ITEM_ANSWER_MS). Namespace URIs (nsu=) are resolved against this session's namespace array.
 */
export async function monitorItem(
  lib: Lib,
  subscription: OpcuaLib.ClientSubscription,
  item: ItemState,
  namespaces: readonly string[],
  events: ItemEvents,
): Promise<void> {
  const { cfg } = item;
  const filter = cfg.deadband
    ? new lib.DataChangeFilter({
        trigger: lib.DataChangeTrigger.StatusValue,
        deadbandType: cfg.deadband.type === 'absolute' ? lib.DeadbandType.Absolute : lib.DeadbandType.Percent,
        deadbandValue: cfg.deadband.value,
      })
    : null;
  const resolved = withNamespaceIndex(cfg.nodeId, namespaces);
  if (!resolved.ok) {
    events.failed(new Error(resolved.message));
    return;
  }
  let monitored: OpcuaLib.ClientMonitoredItem;
  try {
    monitored = lib.ClientMonitoredItem.create(
      subscription,
      { nodeId: lib.resolveNodeId(resolved.nodeId), attributeId: lib.AttributeIds.Value },
      { samplingInterval: cfg.samplingIntervalMs, queueSize: cfg.queueSize, discardOldest: true, filter },
      lib.TimestampsToReturn.Both,
    );
  } catch (err) {
    events.failed(err);
    return;
  }
  monitored.on('changed', (dv: OpcuaLib.DataValue) => events.changed(dv));
  // After a repair node-opcua re-creates items on the same objects, so these listeners also
  // report a node that vanished from a restarted server.
  monitored.on('err', (message: string) => events.failed(new Error(message)));
  monitored.on('initialized', () => events.initialized());
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      monitored.off('initialized', done);
      monitored.off('err', done);
      resolve();
    };
    const timer = setTimeout(done, ITEM_ANSWER_MS);
    monitored.once('initialized', done);
    monitored.once('err', done);
  });
}

/** The reading a data change becomes (the source timestamp when the server gives one). */
export function readingFromDataValue(lib: Lib | null, cfg: OpcuaItemConfig, dv: OpcuaLib.DataValue, receivedAt: number): DriverReading {
  const quality = qualityFromStatusCode(dv.statusCode?.value ?? 0);
  const ts = dv.sourceTimestamp?.getTime() ?? dv.serverTimestamp?.getTime() ?? receivedAt;
  const dataTypeName = dv.value && lib ? String(lib.DataType[dv.value.dataType] ?? '') : '';
  const reading: DriverReading = {
    point: cfg.point,
    // A Bad value is not a measurement (servers often keep the last raw value): never pass it on.
    value: quality === 'bad' ? null : readingValueFromVariant(dv.value?.value, dataTypeName),
    quality,
    ts: Number.isFinite(ts) ? ts : receivedAt,
    kind: 'telemetry',
  };
  if (cfg.unit) reading.unit = cfg.unit;
  if (quality !== 'good') reading.attrs = { status: dv.statusCode.name };
  return reading;
}

/** Each item as status detail shows it, by point name. */
export function itemsDetail(items: readonly ItemState[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const it of items) {
    out[it.cfg.point] = {
      nodeId: it.cfg.nodeId,
      status: it.status,
      ...(it.error ? { error: it.error } : {}),
      lastTs: it.lastTs,
      notifications: it.notifications,
    };
  }
  return out;
}
