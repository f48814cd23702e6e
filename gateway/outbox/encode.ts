import type { Reading } from '../reading.js';

/**
 * Readings are encoded to their payload JSON once, at commit time, and stored that way: the
 * forwarder then only concatenates rows, never parses or re-serialises them. The constant part
 * of a reading (device, point, unit) is cached per point so the hot path builds one short string.
 */
const prefixCache = new Map<string, string>();
const PREFIX_CACHE_LIMIT = 50_000;

function constantPart(r: Reading): string {
  const key = r.unit === undefined ? `${r.device}\u0000${r.point}` : `${r.device}\u0000${r.point}\u0000${r.unit}`;
  let part = prefixCache.get(key);
  if (part === undefined) {
    part =
      `"device":${JSON.stringify(r.device)},"point":${JSON.stringify(r.point)}` +
      (r.unit === undefined ? '' : `,"unit":${JSON.stringify(r.unit)}`);
    if (prefixCache.size >= PREFIX_CACHE_LIMIT) prefixCache.clear();
    prefixCache.set(key, part);
  }
  return part;
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

export function encodeReading(r: Reading, seq: number, clockUnsynced: boolean): string {
  let s = `{"seq":${seq},${constantPart(r)},"value":${encodeValue(r.value)},"quality":"${r.quality}","ts":${Math.round(r.ts)}`;
  if (r.kind === 'event') s += ',"kind":"event"';
  if (r.attrs !== undefined) s += `,"attrs":${JSON.stringify(r.attrs)}`;
  if (clockUnsynced) s += ',"clock":"unsynced"';
  return s + '}';
}
