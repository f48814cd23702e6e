import type { Reading } from '../../drivers/reading.js';

/**
 * Readings are encoded to their payload JSON once, at commit time, and stored that way: the
 * forwarder then only concatenates rows, never parses or re-serialises them. The constant part
 * of a reading (device, point, unit) is cached per point so the hot path builds one short string.
 */
const prefixCache = new Map<string, Map<string, { unit: string | undefined; part: string }>>();
let cachedParts = 0;
const PREFIX_CACHE_LIMIT = 50_000;

/** Keyed by the strings the reading already has: building a combined key per reading cost more than the cache saved. */
function constantPart(r: Reading): string {
  let points = prefixCache.get(r.device);
  if (points === undefined) prefixCache.set(r.device, (points = new Map()));
  let entry = points.get(r.point);
  if (entry === undefined || entry.unit !== r.unit) {
    const part =
      `"device":${JSON.stringify(r.device)},"point":${JSON.stringify(r.point)}` +
      (r.unit === undefined ? '' : `,"unit":${JSON.stringify(r.unit)}`);
    // Bounded so a driver inventing point names cannot grow memory without limit.
    if (cachedParts >= PREFIX_CACHE_LIMIT) {
      prefixCache.clear();
      cachedParts = 0;
      prefixCache.set(r.device, (points = new Map()));
    }
    points.set(r.point, (entry = { unit: r.unit, part }));
    cachedParts++;
  }
  return entry.part;
}

function encodeValue(value: Reading['value']): string {
  switch (typeof value) {
    case 'number':
      // JSON has no NaN/Infinity; a driver should already have marked such a value bad.
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    default:
      return 'null';
  }
}

/** JSON has no NaN/Infinity and the contract allows only string|number|boolean attrs: keep them as text. */
function finiteOrText(_key: string, v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) ? String(v) : v;
}

/** Must be total: whatever a driver hands in, the result is valid JSON matching the contract. */
export function encodeReading(r: Reading, seq: number, clockUnsynced: boolean): string {
  // The ingest edge already replaced non-finite timestamps (and marked them uncertain); this keeps
  // the encoder total for any other caller.
  const ts = Number.isFinite(r.ts) ? Math.round(r.ts) : Date.now();
  let s = `{"seq":${seq},${constantPart(r)},"value":${encodeValue(r.value)},"quality":"${r.quality}","ts":${ts}`;
  if (r.kind === 'event') s += ',"kind":"event"';
  if (r.attrs !== undefined) s += `,"attrs":${JSON.stringify(r.attrs, finiteOrText)}`;
  if (clockUnsynced) s += ',"clock":"unsynced"';
  return s + '}';
}
