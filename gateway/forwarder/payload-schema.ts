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

const replayMarker = z
  .literal(true)
  .optional()
  .describe('present on a batch re-sent because the central side asked for a range the broker lost (docs/payload.md, "Replay"); its readings were sent before, so de-duplicate by (gateway, outbox, seq)');

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
    replay: replayMarker,
    readings: z.array(readingPayloadSchema).min(1),
  })
  .strict();

/**
 * v2 ("poll records", docs/payload.md): opt-in. A good poll of one device read travels as one
 * record (seq of its first value, a layout id, ts, values); names, units and device travel once
 * per batch in `layouts`. Items that are not good poll values stay v1 reading objects.
 */
const layoutId = z
  .string()
  .regex(/^[0-9a-f]{12}$/, '12 lowercase hex characters')
  .describe('hash of the layout content (device, points, units): the same id means the same layout in every batch');

export const layoutPayloadSchema = z
  .object({
    device: z.string(),
    points: z.array(z.string()).min(1),
    units: z
      .array(z.string().nullable())
      .optional()
      .describe('same length as points, null where a point has no unit; absent when no point has one'),
  })
  .strict();

export const pollRecordPayloadSchema = z
  .object({
    seq: seq.describe('seq of values[0]; values[i] has seq + i'),
    layout: layoutId,
    ts: z.number().int().describe('when the device was read, ms since the Unix epoch (gateway clock); the ts of every value'),
    values: z
      .array(z.union([z.number(), z.boolean()]))
      .min(1)
      .describe('good values in layout point order, always one per point of the layout'),
    clock: z.literal('unsynced').optional().describe('the gateway clock was not synchronised when this was read'),
  })
  .strict();

export const batchPayloadV2Schema = z
  .object({
    v: z.literal(2),
    gateway: z.string(),
    outbox: z.string().describe('id of the outbox database; seqs are unique per (gateway, outbox)'),
    batch: z.string().describe('unique per publish; a batch re-sent after a reconnect or restart gets a new id'),
    firstSeq: seq.describe('seq of the first item'),
    lastSeq: seq.describe('seq of the last reading (for a final poll record: seq + values.length - 1)'),
    count: z.number().int().min(1).describe('readings in this batch with every poll record expanded, not items in `readings`'),
    sentAt: z.number().int(),
    replay: replayMarker,
    layouts: z
      .record(layoutId, layoutPayloadSchema)
      .optional()
      .describe('present iff a poll record is in readings; exactly the layouts the records reference'),
    readings: z
      .array(z.union([pollRecordPayloadSchema, readingPayloadSchema]))
      .min(1)
      .describe('poll records and v1 readings, ascending and non-overlapping by (expanded) seq'),
  })
  .strict();

/** Either version; a consumer of a gateway that ever ran v2 must accept both (rule 7). */
export const anyBatchPayloadSchema = z.discriminatedUnion('v', [batchPayloadSchema, batchPayloadV2Schema]);

export type ReadingPayload = z.infer<typeof readingPayloadSchema>;
export type PollRecordPayload = z.infer<typeof pollRecordPayloadSchema>;
export type LayoutPayload = z.infer<typeof layoutPayloadSchema>;
export type BatchPayloadV1 = z.infer<typeof batchPayloadSchema>;
export type BatchPayloadV2 = z.infer<typeof batchPayloadV2Schema>;
export type AnyBatchPayload = z.infer<typeof anyBatchPayloadSchema>;

export function isPollRecord(item: ReadingPayload | PollRecordPayload): item is PollRecordPayload {
  return 'layout' in item;
}

/**
 * What the schemas cannot say about a batch that already passed one of them: seqs ascend without
 * overlap (poll records expanded), `count` and `firstSeq`/`lastSeq` agree with the items, and in
 * v2 every record matches a layout that is present, with no layout unreferenced. Returns every
 * problem found (empty when the batch keeps the contract), so a failing test shows all of them.
 */
export function checkBatchInvariants(batch: AnyBatchPayload): string[] {
  const problems: string[] = [];
  const layouts: Record<string, LayoutPayload> = batch.v === 2 ? (batch.layouts ?? {}) : {};
  const referenced = new Set<string>();
  let expanded = 0;
  let prevLast: number | null = null;
  batch.readings.forEach((item, i) => {
    let last = item.seq;
    if (isPollRecord(item)) {
      referenced.add(item.layout);
      last = item.seq + item.values.length - 1;
      const layout = layouts[item.layout];
      if (layout === undefined) problems.push(`readings[${i}]: layout ${item.layout} is not in layouts`);
      else if (item.values.length !== layout.points.length) {
        problems.push(`readings[${i}]: ${item.values.length} values for layout ${item.layout} of ${layout.points.length} points`);
      }
    }
    if (prevLast !== null && item.seq <= prevLast) {
      problems.push(`readings[${i}]: seq ${item.seq} does not follow ${prevLast} (items must ascend without overlap)`);
    }
    expanded += last - item.seq + 1;
    prevLast = last;
  });
  if (batch.count !== expanded) problems.push(`count ${batch.count} but the items hold ${expanded} readings`);
  const firstSeq = batch.readings[0]?.seq;
  if (batch.firstSeq !== firstSeq) problems.push(`firstSeq ${batch.firstSeq} but the first item has seq ${firstSeq}`);
  if (batch.lastSeq !== prevLast) problems.push(`lastSeq ${batch.lastSeq} but the last reading has seq ${prevLast}`);
  if (batch.v === 2) {
    if (batch.layouts !== undefined && referenced.size === 0) problems.push('layouts present but no poll record in readings');
    for (const [id, layout] of Object.entries(layouts)) {
      if (!referenced.has(id)) problems.push(`layouts.${id}: referenced by no poll record`);
      if (layout.units === undefined) continue;
      if (layout.units.length !== layout.points.length) {
        problems.push(`layouts.${id}: ${layout.units.length} units for ${layout.points.length} points`);
      } else if (layout.units.every((u) => u === null)) {
        problems.push(`layouts.${id}: units present but every one is null (omit units instead)`);
      }
    }
  }
  return problems;
}

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

const nextAttemptSchema = z.number().nullable().describe('while disconnected: when the next connection attempt starts (epoch ms)');
const inboundHealthSchema = z
  .object({ dropped: z.object({ unsolicited: z.number().int(), tooLarge: z.number().int(), overLimit: z.number().int() }).strict(), violations: z.number().int(), lastViolation: z.string().nullable(), throttledS: z.number().int() })
  .strict()
  .describe('what the broker sent that the gateway refused: messages dropped by reason, connections closed for breaking the protocol, seconds reading was paused for sending too fast');

const siteSchema = z
  .object({ id: z.string().optional(), name: z.string().optional(), latitude: z.number().optional(), longitude: z.number().optional(), timeZone: z.string().optional() })
  .strict()
  .describe('gateway.site from gateway.yaml, when set');

/** Which process sent a status or health message (gateway/forwarder/identity.ts). */
const processFields = {
  bootId: z.string().describe('random per process start: a new bootId means the gateway restarted and its counters restarted with it'),
  startedAt: z.number().int().describe('when this process started, ms since the Unix epoch (UTC)'),
  version: z
    .object({ package: z.string(), node: z.string(), outboxSchema: z.number().int() })
    .strict()
    .describe('which code runs: the edge-gateway package version, the Node.js version, the outbox schema version'),
  site: siteSchema.optional(),
};

export const healthPayloadSchema = z
  .object({
    v: z.literal(1),
    gateway: z.string(),
    ts: z.number(),
    uptimeS: z.number(),
    config: z
      .object({
        running: z.enum(['config-dir', 'last-good']),
        lastGoodSavedAt: z.string().nullable(),
        rejected: z
          .object({ since: z.string(), by: z.enum(['start', 'reload']), problems: z.number().int(), first: z.array(z.string()) })
          .strict()
          .nullable(),
      })
      .strict()
      .describe('whether the running config is the one on disk: `last-good` after a start whose config was invalid; `rejected` (file:line problems, since when) until the files on disk load'),
    intervalMs: z.number().int().describe('health.interval: the next health is due this long after ts; none for 2-3 intervals means stale'),
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
        kept: z
          .object({ readings: z.number().int(), bytes: z.number().int() })
          .strict()
          .optional()
          .describe('acknowledged readings kept for replay (outbox.keepAcked) and their bytes: what a replay request can still get back (absent from gateways older than outbox schema 2)'),
        drainRatePerS: z.number(),
        drainEtaS: z.number().nullable(),
      })
      .strict(),
    broker: z
      .object({ connected: z.boolean(), url: z.string().nullable(), connects: z.number().int(), lastError: z.string().nullable(), inflightBatches: z.number().int(), nextAttemptAtMs: nextAttemptSchema, inbound: inboundHealthSchema })
      .strict(),
    commit: z
      .object({ waiting: z.number().int(), commits: z.number().int(), failures: z.number().int(), outboxFull: z.boolean(), invalidTimestamps: z.number().int() })
      .strict(),
    report: z
      .object({ passed: z.number().int(), held: z.number().int(), heartbeats: z.number().int() })
      .strict()
      .optional()
      .describe('report by exception, when a device has a report: block: readings sent as changes (or bad), held back, sent as heartbeats, since start'),
    devices: z.record(z.string(), deviceStatusSchema),
    commands: z
      .object({
        enabled: z.boolean(),
        signed: z.boolean(),
        writablePoints: z.number().int(),
        sinceStart: z.record(z.string(), z.number().int()),
        journal: z.record(z.string(), z.number().int()),
      })
      .strict()
      .optional()
      .describe('the command channel (docs/commands.md): whether it is subscribed, whether signatures are required, how many points are writable; outcomes since this process started and, from the journal, every command it holds by outcome (the local audit, across restarts)'),
    process: z.object({ rssBytes: z.number(), heapUsedBytes: z.number() }).strict(),
    ...processFields,
  })
  .strict();

/**
 * Status v1 (retained on `<prefix>/<gateway>/status`). Gateways before it sent the bare bytes
 * `online`/`offline`; docs/payload.md says what a consumer of that form sees now.
 */
export const statusPayloadSchema = z
  .object({
    v: z.literal(1),
    gateway: z.string(),
    state: z.enum(['online', 'offline']),
    reason: z.enum(['connected', 'stop', 'lwt']).describe('connected: the gateway is connected; stop: clean stop; lwt: the Last Will, published by the broker when it lost the connection (the gateway may still be running)'),
    ts: z.number().int().describe('when the gateway wrote this, ms since the Unix epoch (UTC); for lwt, when the will was registered at connect time'),
    outbox: z.object({ id: z.string() }).strict(),
    ...processFields,
  })
  .strict();
