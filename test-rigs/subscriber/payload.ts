import { inflateBatch, MAX_INFLATED_BATCH_BYTES } from '../../gateway/payload/compression.js';
import { z } from 'zod';
import { canonicalJson } from './fingerprints.js';
import type { SeqRange } from './range-set.js';

/**
 * The gateway's published payloads as a consumer sees them (docs/subscriber.md). Unknown fields
 * are ignored so that additive changes within a version do not break consumers; a `v` other than
 * 1 or 2 is rejected, since that is how the gateway announces a breaking change. A gateway that
 * ever ran `forward.payloadVersion: 2` may send both, so both are read, and v2 poll records are
 * expanded here into the readings they stand for: everything downstream sees v1 readings only.
 */
const seq = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

export const readingSchema = z.object({
  seq,
  device: z.string().min(1),
  point: z.string().min(1),
  value: z.union([z.number(), z.boolean(), z.string(), z.null()]),
  unit: z.string().optional(),
  quality: z.enum(['good', 'bad', 'uncertain']),
  ts: z.number(),
  kind: z.enum(['telemetry', 'event']).optional(),
  attrs: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  /** Present when the gateway's clock was not NTP-synced as the reading was taken. */
  clock: z.literal('unsynced').optional(),
});

const envelope = {
  gateway: z.string().min(1),
  /** Identity of the gateway's outbox; seqs are unique within one outbox. */
  outbox: z.string().optional(),
  batch: z.string().min(1),
  firstSeq: seq,
  lastSeq: seq,
  /** Readings, with every v2 poll record expanded. */
  count: z.number().int().min(1),
  sentAt: z.number(),
  /** Present on a batch re-sent on request (a replay): its readings came before; dedupe by (outbox, seq). */
  replay: z.literal(true).optional(),
};

export const batchSchema = z.object({
  v: z.literal(1),
  ...envelope,
  readings: z.array(readingSchema).min(1),
});

const layoutId = z.string().regex(/^[0-9a-f]{12}$/, 'layout id must be 12 lowercase hex characters');

/** Names, units and device of a poll record's values, sent once per batch. */
export const layoutSchema = z.object({
  device: z.string().min(1),
  points: z.array(z.string().min(1)).min(1),
  units: z.array(z.string().nullable()).optional(),
});

/** The good values of one device read, all taken at `ts`; `values[i]` has seq `seq + i`. */
export const pollRecordSchema = z.object({
  seq,
  layout: layoutId,
  ts: z.number(),
  values: z.array(z.union([z.number(), z.boolean()])).min(1),
  clock: z.literal('unsynced').optional(),
});

/** Items are told apart by `layout`: only a poll record has one. Each is parsed with its own schema below. */
export const batchV2Schema = z.object({
  v: z.literal(2),
  ...envelope,
  layouts: z.record(layoutId, layoutSchema).optional(),
  readings: z.array(z.looseObject({})).min(1),
});

export type ReadingPayload = z.infer<typeof readingSchema>;
export type LayoutPayload = z.infer<typeof layoutSchema>;
export type PollRecordPayload = z.infer<typeof pollRecordSchema>;

/** A batch of either version with poll records expanded: `readings.length === count`. */
export type BatchPayload = Omit<z.infer<typeof batchSchema>, 'v'> & { v: 1 | 2 };

/**
 * Layouts seen so far, by id, as canonical JSON. Rule 4 of the contract: an id always means the
 * same layout, so a consumer may cache them; a second meaning for an id is a malformed batch.
 */
export type LayoutLog = Map<string, string>;

const range = z.tuple([seq, seq]).refine(([a, b]) => a <= b, 'range [from, to] with from > to');

/** Only the parts of the health message the subscriber acts on; the rest is kept as received. */
export const healthSchema = z.looseObject({
  v: z.literal(1),
  gateway: z.string(),
  ts: z.number(),
  outbox: z.looseObject({
    id: z.string().optional(),
    dropped: z.object({ readings: z.number().int().min(0), ranges: z.array(range) }),
    /** Seq ranges skipped after an unclean start (power cut): declared, not lost in transit. */
    skipped: z.object({ ranges: z.array(range) }).optional(),
  }),
});

export type HealthPayload = z.infer<typeof healthSchema>;

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** A batch is JSON, or JSON in one zstd frame (`forward.compression: zstd`, docs/payload.md#compression). */
function parseJson(payload: Buffer): Parsed<unknown> {
  let text: Buffer;
  try {
    text = inflateBatch(payload);
  } catch (err) {
    return { ok: false, reason: `a zstd frame that does not inflate (damaged, or over ${MAX_INFLATED_BATCH_BYTES} bytes): ${(err as Error).message}` };
  }
  try {
    return { ok: true, value: JSON.parse(text.toString('utf8')) };
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
}

/** A record key's issue says only "Invalid key in record"; the reason is one level down. */
function messageOf(issue: z.core.$ZodIssue): string {
  return issue.code === 'invalid_key' ? `${issue.message}: ${issue.issues.map((i) => i.message).join('; ')}` : issue.message;
}

function describe(error: z.ZodError, at?: string): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${[at, ...i.path].filter((p) => p !== undefined).join('.') || '(root)'}: ${messageOf(i)}`)
    .join('; ');
}

/** Reading `i` of a poll record, exactly as the same reading reads in a v1 batch. */
function expandedReading(r: PollRecordPayload, layout: LayoutPayload, i: number): ReadingPayload {
  const unit = layout.units?.[i];
  return {
    seq: r.seq + i,
    device: layout.device,
    point: layout.points[i] as string,
    value: r.values[i] as number | boolean,
    ...(unit == null ? {} : { unit }),
    quality: 'good',
    ts: r.ts,
    ...(r.clock === undefined ? {} : { clock: r.clock }),
  };
}

type Expanded = { ok: true; readings: ReadingPayload[] } | { ok: false; reason: string };

/** Checks v2's layout rules and expands every poll record; ordering and counts are checked by the caller. */
function expandV2(b: z.infer<typeof batchV2Schema>): Expanded {
  const fail = (reason: string): Expanded => ({ ok: false, reason: `batch ${b.batch}: ${reason}` });
  const layouts = b.layouts ?? {};
  for (const [id, l] of Object.entries(layouts)) {
    if (l.units === undefined) continue;
    if (l.units.length !== l.points.length) return fail(`layouts.${id}: ${l.units.length} units for ${l.points.length} points`);
    if (l.units.every((u) => u === null)) return fail(`layouts.${id}: units present but all null (must be absent)`);
  }
  const referenced = new Set<string>();
  const readings: ReadingPayload[] = [];
  for (let i = 0; i < b.readings.length; i++) {
    const item = b.readings[i] as Record<string, unknown>;
    if (!('layout' in item)) {
      const r = readingSchema.safeParse(item);
      if (!r.success) return fail(describe(r.error, `readings.${i}`));
      readings.push(r.data);
      continue;
    }
    const rec = pollRecordSchema.safeParse(item);
    if (!rec.success) return fail(describe(rec.error, `readings.${i}`));
    const layout = layouts[rec.data.layout];
    if (layout === undefined) return fail(`readings.${i}: layout ${rec.data.layout} is not in layouts`);
    if (rec.data.values.length !== layout.points.length) {
      return fail(`readings.${i}: ${rec.data.values.length} values for layout ${rec.data.layout} of ${layout.points.length} points`);
    }
    referenced.add(rec.data.layout);
    for (let k = 0; k < rec.data.values.length; k++) readings.push(expandedReading(rec.data, layout, k));
  }
  if (b.layouts !== undefined && referenced.size === 0) return fail('layouts present but no poll record in readings');
  const unreferenced = Object.keys(layouts).filter((id) => !referenced.has(id));
  if (unreferenced.length > 0) return fail(`layouts ${unreferenced.join(', ')} referenced by no poll record`);
  return { ok: true, readings };
}

/** Rule 4: a layout id seen before must carry the same layout. Records the new ones. */
function checkLayoutIds(b: z.infer<typeof batchV2Schema>, log: LayoutLog): string | null {
  const fresh: Array<[string, string]> = [];
  for (const [id, layout] of Object.entries(b.layouts ?? {})) {
    const text = canonicalJson(layout);
    const known = log.get(id);
    if (known === undefined) fresh.push([id, text]);
    else if (known !== text) return `batch ${b.batch}: layout ${id} is ${text} but was ${known} in an earlier batch`;
  }
  for (const [id, text] of fresh) log.set(id, text);
  return null;
}

/**
 * Schema plus the invariants a schema cannot express (ordering, counts, gateway identity, v2
 * layouts). v2 poll records come back expanded, so `readings` always holds v1 readings. Pass the
 * same `layouts` log for every batch of a gateway to also catch a layout id that changes meaning.
 */
export function parseBatch(payload: Buffer, expectedGateway: string, layouts?: LayoutLog): Parsed<BatchPayload> {
  const json = parseJson(payload);
  if (!json.ok) return json;
  const v = (json.value as { v?: unknown } | null)?.v;
  if (v !== undefined && v !== 1 && v !== 2) {
    return { ok: false, reason: `v: ${JSON.stringify(v)} is not a payload version this subscriber reads (1 or 2)` };
  }
  let b: BatchPayload;
  let v2: z.infer<typeof batchV2Schema> | null = null;
  if (v === 2) {
    const result = batchV2Schema.safeParse(json.value);
    if (!result.success) return { ok: false, reason: describe(result.error) };
    v2 = result.data;
    const expanded = expandV2(v2);
    if (!expanded.ok) return expanded;
    const { layouts: _sentOncePerBatch, ...rest } = v2;
    b = { ...rest, readings: expanded.readings };
  } else {
    const result = batchSchema.safeParse(json.value);
    if (!result.success) return { ok: false, reason: describe(result.error) };
    b = result.data;
  }
  if (b.gateway !== expectedGateway) {
    return { ok: false, reason: `gateway "${b.gateway}" in a payload on gateway "${expectedGateway}"'s topic` };
  }
  if (b.count !== b.readings.length) {
    return { ok: false, reason: `batch ${b.batch}: count ${b.count} but ${b.readings.length} readings` };
  }
  const first = b.readings[0]?.seq;
  const last = b.readings[b.readings.length - 1]?.seq;
  if (first !== b.firstSeq || last !== b.lastSeq) {
    return { ok: false, reason: `batch ${b.batch}: firstSeq/lastSeq ${b.firstSeq}/${b.lastSeq} but readings span ${first}..${last}` };
  }
  for (let i = 1; i < b.readings.length; i++) {
    const prev = (b.readings[i - 1] as ReadingPayload).seq;
    const cur = (b.readings[i] as ReadingPayload).seq;
    if (cur <= prev) return { ok: false, reason: `batch ${b.batch}: seq ${cur} follows ${prev} (must ascend)` };
  }
  // Last, so that a batch rejected for another reason teaches the log nothing.
  const conflict = v2 && layouts ? checkLayoutIds(v2, layouts) : null;
  if (conflict) return { ok: false, reason: conflict };
  return { ok: true, value: b };
}

export function parseHealth(payload: Buffer, expectedGateway: string): Parsed<HealthPayload> {
  const json = parseJson(payload);
  if (!json.ok) return json;
  const result = healthSchema.safeParse(json.value);
  if (!result.success) return { ok: false, reason: describe(result.error) };
  if (result.data.gateway !== expectedGateway) {
    return { ok: false, reason: `health from gateway "${result.data.gateway}" on gateway "${expectedGateway}"'s topic` };
  }
  return { ok: true, value: result.data };
}

/** Every range the gateway declared it will never deliver: retention drops and skipped seqs. */
export function droppedRanges(health: HealthPayload): SeqRange[] {
  return [...health.outbox.dropped.ranges, ...(health.outbox.skipped?.ranges ?? [])];
}

export type GatewayStatus = 'online' | 'offline';

/**
 * Status v1 (docs/payload.md): a JSON object. Unknown fields are ignored, like everywhere else.
 * `reason` says why: `connected`, `stop` (clean stop), `lwt` (the broker published the Last Will:
 * the connection was lost, not necessarily the gateway).
 */
export const statusSchema = z.looseObject({
  v: z.literal(1),
  state: z.enum(['online', 'offline']),
  reason: z.string().optional(),
  ts: z.number().optional(),
  bootId: z.string().optional(),
});

/** A status either form: `message` is null for the bare `online`/`offline` of gateways before status v1. */
export interface GatewayStatusMessage {
  state: GatewayStatus;
  reason: string | null;
  message: z.infer<typeof statusSchema> | null;
}

export function parseStatus(payload: Buffer): Parsed<GatewayStatusMessage> {
  const text = payload.toString('utf8');
  if (text === 'online' || text === 'offline') return { ok: true, value: { state: text, reason: null, message: null } };
  const json = parseJson(payload);
  if (!json.ok) return { ok: false, reason: `status "${text.slice(0, 40)}" is neither a status object nor online/offline` };
  const result = statusSchema.safeParse(json.value);
  if (!result.success) return { ok: false, reason: `status: ${describe(result.error)}` };
  return { ok: true, value: { state: result.data.state, reason: result.data.reason ?? null, message: result.data } };
}
