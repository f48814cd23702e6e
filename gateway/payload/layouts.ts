import { createHash } from 'node:crypto';
import type { SharedPart } from '../model/encoded-row.js';
import type { PackedPoints } from '../model/packed-readings.js';

/**
 * A poll record's layout (payload v2, docs/payload.md): which device and which points, in order,
 * its values belong to. The id is a hash of the content, so it means the same layout in every
 * batch and across restarts, and subscribers may cache layouts by id. The outbox stores a layout
 * as a shared part (`text` is its JSON: `{"device":..,"points":[..][,"units":[..]]}`).
 */
export function makeLayout(id: string, json: string): SharedPart {
  const entry = Buffer.from(`"${id}":${json}`, 'utf8');
  // In a batch's `layouts` object: the entry and a separating comma.
  const layout: SharedPart = { id, text: json, batchBytes: entry.length + 1 };
  entries.set(layout, entry);
  return layout;
}

/** `"<id>":<json>` as UTF-8, a layout's entry in a batch, built once (batches repeat it). */
const entries = new WeakMap<SharedPart, Buffer>();

export function layoutEntry(layout: SharedPart): Buffer {
  let entry = entries.get(layout);
  if (entry === undefined) entries.set(layout, (entry = Buffer.from(`"${layout.id}":${layout.text}`, 'utf8')));
  return entry;
}

const byPoints = new WeakMap<PackedPoints, { device: string; layout: SharedPart }>();

/** The layout of a packed run's points on `device`, computed once per compiled device config. */
export function layoutOf(points: PackedPoints, device: string): SharedPart {
  const hit = byPoints.get(points);
  if (hit !== undefined && hit.device === device) return hit.layout;
  const hasUnits = points.units.some((u) => u !== undefined);
  const json =
    `{"device":${JSON.stringify(device)},"points":${JSON.stringify(points.names)}` +
    (hasUnits ? `,"units":${JSON.stringify(points.units.map((u) => u ?? null))}` : '') +
    '}';
  const layout = makeLayout(createHash('sha256').update(json).digest('hex').slice(0, 12), json);
  byPoints.set(points, { device, layout });
  return layout;
}
