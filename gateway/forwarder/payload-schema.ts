import { z } from 'zod';

/**
 * The published contract, as the gateway produces it (docs/payload.md). Strict on purpose: a
 * test validates what the forwarder really sends against this, and docs/payload.schema.json is
 * generated from it, so the documentation cannot drift from the bytes on the wire.
 */
const seq = z.number().int().min(1).describe('gateway-wide sequence number, +1 per committed reading, never reused within an outbox');

export const readingPayloadSchema = z
  .object({
    seq,
    device: z.string().describe('device id (file name under devices/, or `_gateway` for the gateway itself)'),
    point: z.string(),
    unit: z.string().optional(),
    value: z.union([z.number(), z.boolean(), z.string(), z.null()]),
    quality: z.enum(['good', 'bad', 'uncertain']),
    ts: z.number().int().describe('when the value was read, ms since the Unix epoch (gateway clock)'),
    kind: z.literal('event').optional().describe('present for events; absent for periodic telemetry'),
    attrs: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
    clock: z.literal('unsynced').optional().describe('the gateway clock was not synchronised when this was read'),
  })
  .strict();

export const batchPayloadSchema = z
  .object({
    v: z.literal(1),
    gateway: z.string(),
    outbox: z.string().describe('id of the outbox database; seqs are unique per (gateway, outbox)'),
    batch: z.string().describe('unique per publish; a batch re-sent after a reconnect or restart gets a new id'),
    firstSeq: seq,
    lastSeq: seq,
    count: z.number().int().min(1).describe('readings in this batch (events may interleave, so lastSeq - firstSeq + 1 >= count)'),
    sentAt: z.number().int(),
    readings: z.array(readingPayloadSchema).min(1),
  })
  .strict();

const deviceStatusSchema = z
  .object({
    type: z.string(),
    state: z.enum(['starting', 'ok', 'degraded', 'down', 'stopped']),
    lastGoodTs: z.number().nullable(),
    lastError: z.object({ code: z.string(), message: z.string(), ts: z.number() }).nullable(),
    stateReason: z.string().optional(),
    stateSince: z.number().optional(),
    counters: z.record(z.string(), z.number()),
    detail: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export const healthPayloadSchema = z
  .object({
    v: z.literal(1),
    gateway: z.string(),
    ts: z.number(),
    uptimeS: z.number(),
    clock: z.object({ synced: z.boolean() }).strict(),
    outbox: z
      .object({
        id: z.string(),
        nextSeq: z.number().int(),
        pendingReadings: z.number().int(),
        pendingBytes: z.number().int(),
        pendingEvents: z.number().int(),
        oldestPendingMs: z.number().nullable(),
        dropped: z.object({ readings: z.number().int(), ranges: z.array(z.tuple([z.number().int(), z.number().int()])) }).strict(),
        skipped: z
          .object({ ranges: z.array(z.tuple([z.number().int(), z.number().int()])) })
          .strict()
          .describe('seq ranges skipped after unclean stops (power cut): never delivered, declared like retention drops'),
        refused: z.number().int(),
        drainRatePerS: z.number(),
        drainEtaS: z.number().nullable(),
      })
      .strict(),
    broker: z
      .object({ connected: z.boolean(), url: z.string().nullable(), connects: z.number().int(), lastError: z.string().nullable(), inflightBatches: z.number().int() })
      .strict(),
    commit: z
      .object({ waiting: z.number().int(), commits: z.number().int(), failures: z.number().int(), outboxFull: z.boolean(), invalidTimestamps: z.number().int() })
      .strict(),
    devices: z.record(z.string(), deviceStatusSchema),
    process: z.object({ rssBytes: z.number(), heapUsedBytes: z.number() }).strict(),
  })
  .strict();

export const statusPayloadSchema = z.enum(['online', 'offline']);
