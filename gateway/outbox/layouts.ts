import { createHash } from 'node:crypto';
import type { PackedPoints } from '../../drivers/packed-readings.js';

/**
 * A poll record's layout (payload v2, docs/payload.md): which device and which points, in order,
 * its values belong to. The id is a hash of the content, so it means the same layout in every
 * batch and across restarts, and subscribers may cache layouts by id.
 */
export interface Layout {
  readonly id: string;
  /** `{"device":..,"points":[..][,"units":[..]]}`, as published in a batch's `layouts`. */
  readonly json: string;
  /** `"<id>":<json>` as UTF-8, the layout's entry in a batch, built once (batches repeat it). */
  readonly entry: Buffer;
}

export function makeLayout(id: string, json: string): Layout {
  return { id, json, entry: Buffer.from(`"${id}":${json}`, 'utf8') };
}

const byPoints = new WeakMap<PackedPoints, { device: string; layout: Layout }>();

/** The layout of a packed run's points on `device`, computed once per compiled device config. */
export function layoutOf(points: PackedPoints, device: string): Layout {
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
