import type { PackedPoints } from '../model/packed-readings.js';
import type { PackedRun } from '../model/packed-run.js';
import type { Reading } from '../model/reading.js';
import type { SharedPart } from '../model/encoded-row.js';

/**
 * Writes readings as payload JSON (docs/payload.md) into a UTF-8 buffer reused for every row: the
 * constant part of a point (device, point, unit) is cached as bytes once per point, and numbers
 * are written digit by digit, so a packed poll costs no JS string per value (string building per
 * value, flattening a ~50 KB row and SQLite's copy of it to UTF-8 were the largest share of the
 * poll path's garbage). The bytes are stored as they are and the forwarder only concatenates them,
 * so this file is the one place a reading's JSON is decided: one value rule (`valueText`), one
 * timestamp rule (`wireTimestamp`), one reading shape.
 */
export class RowWriter {
  private buf = Buffer.allocUnsafe(64 * 1024);
  private at = 0;
  /**
   * Plain readings not yet in `buf`: built as one string and written with one call when the row
   * is taken (or bytes follow). A buffer write per reading cost several times what the string did.
   */
  private text = '';
  /** Per compiled packed layout and device: each point's constant bytes. */
  private readonly packedParts = new WeakMap<PackedPoints, { device: string; parts: Buffer[] }>();

  /** The row so far (valid until the next write), and start a new one. */
  take(): Buffer {
    this.flushText();
    const out = this.buf.subarray(0, this.at);
    this.at = 0;
    return out;
  }

  comma(): void {
    if (this.text !== '') this.text += ',';
    else {
      this.room(1);
      this.buf[this.at++] = 0x2c;
    }
  }

  /** `{"seq":..,"device":..,"point":..[,"unit":..],"value":..,"quality":..,"ts":..[,"kind":"event"][,"attrs":{..}][,"clock":"unsynced"]}` */
  reading(r: Reading, seq: number, clockUnsynced: boolean): void {
    this.text += '{"seq":' + seq + pointPart(r.device, r.point, r.unit) + valueText(r.value) + readingEnd(r.quality, r.ts, clockUnsynced, r.kind, r.attrs);
  }

  /**
   * Readings `from..to-1` of a packed run, seqs from `firstSeq`, comma-joined: byte for byte what
   * `reading` writes for the same readings, with the per-poll end built once per run.
   */
  packed(run: PackedRun, from: number, to: number, firstSeq: number, clockUnsynced: boolean): void {
    const p = run.packed;
    const parts = this.partsFor(p.points, run.device);
    const end = Buffer.from(readingEnd('good', p.ts, clockUnsynced), 'utf8');
    let seq = firstSeq;
    for (let i = from; i < to; i++) {
      if (i !== from) this.comma();
      this.open(seq++, parts[i]!);
      this.value(p.value(i));
      this.bytes(end);
    }
  }

  /**
   * A packed run as one poll record of payload v2, seq `firstSeq`:
   * `{"seq":..,"layout":"<id>","ts":..,"values":[..][,"clock":"unsynced"]}`. Per value only its
   * digits and a comma are written; names and units travel once per batch in the layout.
   */
  record(run: PackedRun, layout: SharedPart, firstSeq: number, clockUnsynced: boolean): void {
    const p = run.packed;
    this.flushText();
    this.room(64 + layout.id.length);
    this.bytes(SEQ_OPEN);
    this.at = writeInt(this.buf, this.at, firstSeq);
    this.write(`,"layout":"${layout.id}","ts":${wireTimestamp(p.ts)}`);
    this.bytes(VALUES_OPEN);
    for (let i = 0; i < p.count; i++) {
      if (i !== 0) this.comma();
      this.value(p.value(i));
    }
    this.write(clockUnsynced ? '],"clock":"unsynced"}' : ']}');
  }

  /** `{"seq":<seq>` and a point's constant part, which ends with `"value":`. */
  private open(seq: number, part: Buffer): void {
    this.flushText();
    // Worst case: comma, '{"seq":', a 17-digit integer.
    this.room(32 + part.length);
    this.at += SEQ_OPEN.copy(this.buf, this.at);
    this.at = writeInt(this.buf, this.at, seq);
    this.at += part.copy(this.buf, this.at);
  }

  /** `valueText(v)`, with a safe integer's digits written straight into the buffer (the same digits, no string). */
  private value(v: number | boolean): void {
    if (typeof v === 'number' && Number.isSafeInteger(v)) {
      this.room(24);
      this.at = writeInt(this.buf, this.at, v);
    } else this.write(valueText(v));
  }

  private flushText(): void {
    if (this.text === '') return;
    const s = this.text;
    this.text = '';
    this.write(s);
  }

  private write(s: string): void {
    // UTF-8 needs at most 3 bytes per UTF-16 unit: room without measuring the string first.
    this.room(s.length * 3);
    this.at += this.buf.write(s, this.at, 'utf8');
  }

  private bytes(b: Buffer): void {
    this.room(b.length);
    this.at += b.copy(this.buf, this.at);
  }

  private partsFor(points: PackedPoints, device: string): Buffer[] {
    const hit = this.packedParts.get(points);
    if (hit !== undefined && hit.device === device) return hit.parts;
    const parts = points.names.map((name, i) => Buffer.from(pointPartText(device, name, points.units[i]), 'utf8'));
    this.packedParts.set(points, { device, parts });
    return parts;
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }
}

/**
 * The value rule. JSON has no NaN or Infinity: a non-finite number (which a driver should
 * already have marked bad) is `null`, as is anything outside the reading contract.
 */
export function valueText(v: unknown): string {
  switch (typeof v) {
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'string':
      return JSON.stringify(v);
    default:
      return 'null';
  }
}

/**
 * The timestamp rule: whole milliseconds; a non-finite one becomes the gateway's time. Group
 * commit already replaced such timestamps at the ingest edge (and marked the readings
 * uncertain); this keeps the writer total for any other caller.
 */
export function wireTimestamp(ts: number): number {
  return Number.isFinite(ts) ? Math.round(ts) : Date.now();
}

/** Everything after a reading's value. */
function readingEnd(quality: Reading['quality'], ts: number, clockUnsynced: boolean, kind?: Reading['kind'], attrs?: Reading['attrs']): string {
  let s = `,"quality":"${quality}","ts":${wireTimestamp(ts)}`;
  if (kind === 'event') s += ',"kind":"event"';
  if (attrs !== undefined) s += `,"attrs":${JSON.stringify(attrs, finiteOrText)}`;
  if (clockUnsynced) s += ',"clock":"unsynced"';
  return s + '}';
}

/** Attributes are context, not values: a non-finite number is kept as its text rather than lost. */
function finiteOrText(_key: string, v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) ? String(v) : v;
}

/** `,"device":..,"point":..[,"unit":..],"value":` */
function pointPartText(device: string, point: string, unit: string | undefined): string {
  return `,"device":${JSON.stringify(device)},"point":${JSON.stringify(point)}${unit === undefined ? '' : `,"unit":${JSON.stringify(unit)}`},"value":`;
}

/**
 * A plain reading's constant part, cached per device and point. Keyed by the strings the reading
 * already has: building a combined key per reading cost more than the cache saved.
 */
const pointParts = new Map<string, Map<string, { unit: string | undefined; part: string }>>();
let cachedParts = 0;
const POINT_CACHE_LIMIT = 50_000;

function pointPart(device: string, point: string, unit: string | undefined): string {
  let points = pointParts.get(device);
  if (points === undefined) pointParts.set(device, (points = new Map()));
  let entry = points.get(point);
  if (entry === undefined || entry.unit !== unit) {
    // Bounded so a driver inventing point names cannot grow memory without limit.
    if (cachedParts >= POINT_CACHE_LIMIT) {
      pointParts.clear();
      cachedParts = 0;
      pointParts.set(device, (points = new Map()));
    }
    points.set(point, (entry = { unit, part: pointPartText(device, point, unit) }));
    cachedParts++;
  }
  return entry.part;
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
