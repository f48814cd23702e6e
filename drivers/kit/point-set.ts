import type { PackedPoints } from '../../gateway/model/packed-readings.js';

/** A point a device file declares: its name and the unit its readings carry. */
export interface DeclaredPoint {
  readonly name: string;
  readonly unit?: string | undefined;
}

/** Subsets of one device's points kept as packed layouts; past this many, a subset is sent as plain readings. */
const MAX_SUBSETS = 256;

/**
 * The points a device declares, compiled once per device config into the `PackedPoints` its
 * packed readings name (gateway/model/packed-readings.ts). A read that yields only some of them
 * (a field missing from a line, the items that changed in one OPC-UA publish) gets a subset,
 * made once and cached by identity so the payload's v2 layout and the report filter's caches are
 * built once per subset too. Subsets are bounded: a device whose reads come in ever new shapes
 * cannot grow memory, it just stops packing the new shapes.
 */
export class PointSet {
  private readonly index = new Map<string, number>();
  private readonly names: readonly string[];
  private readonly units: readonly (string | undefined)[];
  private readonly subsets = new Map<string, PackedPoints>();

  constructor(points: readonly DeclaredPoint[]) {
    const names: string[] = [];
    const units: (string | undefined)[] = [];
    for (const p of points) {
      // The first declaration of a name wins; a reading that disagrees with its unit is not packed.
      if (this.index.has(p.name)) continue;
      this.index.set(p.name, names.length);
      names.push(p.name);
      units.push(p.unit);
    }
    this.names = names;
    this.units = units;
  }

  /** Where `name` sits among the declared points, if it is one and `unit` is its unit. */
  indexOf(name: string, unit: string | undefined): number | undefined {
    const i = this.index.get(name);
    return i !== undefined && this.units[i] === unit ? i : undefined;
  }

  /** The points at `indices` (in that order) as one layout, or undefined past the subset bound. */
  points(indices: readonly number[]): PackedPoints | undefined {
    const key = indices.join(',');
    let points = this.subsets.get(key);
    if (points === undefined && this.subsets.size < MAX_SUBSETS) {
      points = { names: indices.map((i) => this.names[i]!), units: indices.map((i) => this.units[i]) };
      this.subsets.set(key, points);
    }
    return points;
  }
}
