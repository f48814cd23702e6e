import { z } from 'zod';
import type { SeqRange } from './range-set.js';

/**
 * The gateway's published payloads as a consumer sees them (docs/subscriber.md). Unknown fields
 * are ignored so that additive changes within v1 do not break consumers; a different `v` is
 * rejected, since that is how the gateway announces a breaking change.
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

export const batchSchema = z.object({
  v: z.literal(1),
  gateway: z.string().min(1),
  /** Identity of the gateway's outbox; seqs are unique within one outbox. */
  outbox: z.string().optional(),
  batch: z.string().min(1),
  firstSeq: seq,
  lastSeq: seq,
  count: z.number().int().min(1),
  sentAt: z.number(),
  readings: z.array(readingSchema).min(1),
});

export type BatchPayload = z.infer<typeof batchSchema>;
export type ReadingPayload = z.infer<typeof readingSchema>;

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

function parseJson(payload: Buffer): Parsed<unknown> {
  try {
    return { ok: true, value: JSON.parse(payload.toString('utf8')) };
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
}

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/** Schema plus the invariants a schema cannot express (ordering, counts, gateway identity). */
export function parseBatch(payload: Buffer, expectedGateway: string): Parsed<BatchPayload> {
  const json = parseJson(payload);
  if (!json.ok) return json;
  const result = batchSchema.safeParse(json.value);
  if (!result.success) return { ok: false, reason: describe(result.error) };
  const b = result.data;
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

export function parseStatus(payload: Buffer): Parsed<GatewayStatus> {
  const text = payload.toString('utf8');
  return text === 'online' || text === 'offline'
    ? { ok: true, value: text }
    : { ok: false, reason: `status "${text.slice(0, 40)}" is neither online nor offline` };
}
