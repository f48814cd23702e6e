import type { Reading } from '../../drivers/reading.js';
import type { PackedPoints } from '../../drivers/packed-readings.js';
import type { PackedRun } from '../packed-run.js';
import type { Layout } from './layouts.js';

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

/** Per point of a packed layout and device: `,"device":..,"point":..[,"unit":..],"value":`. */
const packedParts = new WeakMap<PackedPoints, { device: string; parts: string[] }>();

function partsFor(points: PackedPoints, device: string): string[] {
  const hit = packedParts.get(points);
  if (hit !== undefined && hit.device === device) return hit.parts;
  const d = JSON.stringify(device);
  const parts = points.names.map((name, i) => {
    const unit = points.units[i];
    return `,"device":${d},"point":${JSON.stringify(name)}${unit === undefined ? '' : `,"unit":${JSON.stringify(unit)}`},"value":`;
  });
  packedParts.set(points, { device, parts });
  return parts;
}

/**
 * Readings `from..to-1` of a packed run as comma-joined payload JSON, seqs from `firstSeq`:
 * byte for byte what `encodeReading` gives for the same readings, with the per-point constant
 * and the per-poll suffix (quality, ts, clock) built once instead of once per value.
 */
export function encodePacked(run: PackedRun, from: number, to: number, firstSeq: number, clockUnsynced: boolean): string {
  const p = run.packed;
  const parts = partsFor(p.points, run.device);
  const suffix = `,"quality":"good","ts":${Number.isFinite(p.ts) ? Math.round(p.ts) : Date.now()}${clockUnsynced ? ',"clock":"unsynced"' : ''}}`;
  let seq = firstSeq;
  let s = '';
  for (let i = from; i < to; i++) {
    const v = p.value(i);
    const text = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : 'null') : v ? 'true' : 'false';
    s += (i === from ? '{"seq":' : ',{"seq":') + seq++ + parts[i] + text + suffix;
  }
  return s;
}

/**
 * Builds one outbox row's body as UTF-8 bytes in a buffer reused for every row: packed values are
 * written digit by digit next to cached per-point bytes, so a row costs no JS strings at all
 * (string building per value, flattening a ~50 KB row and SQLite's copy of it to UTF-8 were the
 * largest share of the poll path's garbage). Plain readings go through `encodeReading`. SQLite
 * copies the bytes on bind, so the buffer is free again as soon as the row is inserted.
 */
export class RowWriter {
  private buf = Buffer.allocUnsafe(64 * 1024);
  private at = 0;
  private readonly partBytes = new WeakMap<PackedPoints, { device: string; parts: Buffer[] }>();

  get length(): number {
    return this.at;
  }

  /** The row so far (valid until the next write), and start a new one. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.at);
    this.at = 0;
    return out;
  }

  comma(): void {
    this.room(1);
    this.buf[this.at++] = 0x2c;
  }

  reading(r: Reading, seq: number, clockUnsynced: boolean): void {
    const s = encodeReading(r, seq, clockUnsynced);
    // UTF-8 needs at most 3 bytes per UTF-16 unit: room without measuring the string first.
    this.room(s.length * 3);
    this.at += this.buf.write(s, this.at, 'utf8');
  }

  /** Same bytes as `encodePacked(run, from, to, firstSeq, clockUnsynced)`. */
  packed(run: PackedRun, from: number, to: number, firstSeq: number, clockUnsynced: boolean): void {
    const p = run.packed;
    const parts = this.partsFor(p.points, run.device);
    const suffix = Buffer.from(`,"quality":"good","ts":${Number.isFinite(p.ts) ? Math.round(p.ts) : Date.now()}${clockUnsynced ? ',"clock":"unsynced"' : ''}}`, 'latin1');
    let seq = firstSeq;
    for (let i = from; i < to; i++) {
      const part = parts[i]!;
      // Worst case: comma, '{"seq":', two 17-digit integers or a 24-character double.
      this.room(64 + part.length + suffix.length);
      const buf = this.buf;
      let at = this.at;
      if (i !== from) buf[at++] = 0x2c;
      at += SEQ_OPEN.copy(buf, at);
      at = writeInt(buf, at, seq++);
      at += part.copy(buf, at);
      const v = p.value(i);
      if (typeof v === 'boolean') at += buf.write(v ? 'true' : 'false', at, 'latin1');
      else if (Number.isSafeInteger(v)) at = writeInt(buf, at, v);
      else at += buf.write(Number.isFinite(v) ? String(v) : 'null', at, 'latin1');
      at += suffix.copy(buf, at);
      this.at = at;
    }
  }

  /**
   * A packed run as one poll record of payload v2, seq `firstSeq`:
   * `{"seq":..,"layout":"<id>","ts":..,"values":[..][,"clock":"unsynced"]}`. Per value only its
   * digits and a comma are written; names and units travel once per batch in the layout.
   */
  record(run: PackedRun, layout: Layout, firstSeq: number, clockUnsynced: boolean): void {
    const p = run.packed;
    const ts = Number.isFinite(p.ts) ? Math.round(p.ts) : Date.now();
    this.room(64 + layout.id.length);
    let at = this.at;
    const buf = this.buf;
    at += SEQ_OPEN.copy(buf, at);
    at = writeInt(buf, at, firstSeq);
    at += buf.write(`,"layout":"${layout.id}","ts":`, at, 'latin1');
    at = writeInt(buf, at, ts);
    at += VALUES_OPEN.copy(buf, at);
    this.at = at;
    for (let i = 0; i < p.count; i++) {
      // Worst case: a comma and a 24-character double.
      this.room(32);
      const b = this.buf;
      at = this.at;
      if (i !== 0) b[at++] = 0x2c;
      const v = p.value(i);
      if (typeof v === 'boolean') at += b.write(v ? 'true' : 'false', at, 'latin1');
      else if (Number.isSafeInteger(v)) at = writeInt(b, at, v);
      else at += b.write(Number.isFinite(v) ? String(v) : 'null', at, 'latin1');
      this.at = at;
    }
    this.room(24);
    this.at += this.buf.write(clockUnsynced ? '],"clock":"unsynced"}' : ']}', this.at, 'latin1');
  }

  private partsFor(points: PackedPoints, device: string): Buffer[] {
    const hit = this.partBytes.get(points);
    if (hit !== undefined && hit.device === device) return hit.parts;
    const parts = partsFor(points, device).map((s) => Buffer.from(s, 'utf8'));
    this.partBytes.set(points, { device, parts });
    return parts;
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }
}

const SEQ_OPEN = Buffer.from('{"seq":', 'latin1');
const VALUES_OPEN = Buffer.from(',"values":[', 'latin1');

/** Decimal digits of a safe integer at `at`; returns the end. Needs 17 bytes of room. */
function writeInt(buf: Buffer, at: number, v: number): number {
  if (v < 0) {
    buf[at++] = 0x2d;
    v = -v;
  }
  if (v < 10) {
    buf[at] = 0x30 + v;
    return at + 1;
  }
  let digits = 1;
  for (let x = v; x >= 10; x = Math.floor(x / 10)) digits++;
  const end = at + digits;
  for (let i = end - 1; i >= at; i--) {
    const q = Math.floor(v / 10);
    buf[i] = 0x30 + (v - q * 10);
    v = q;
  }
  return end;
}
