import { z } from 'zod';
import { idSchema, pointNameSchema } from '../../drivers/device-schema.js';
import type { WriteRequest } from '../../drivers/writable-point.js';

/**
 * The inbound command, version 1, as docs/commands.md and docs/commands.schema.json publish it.
 * Parsed once here; everything after works on the typed `Command`. Unknown fields are allowed
 * (a newer command centre may add optional ones) but never change what is done.
 */
export const COMMAND_ID_MAX = 128;

const commandIdSchema = z
  .string()
  .min(1)
  .max(COMMAND_ID_MAX)
  // eslint-disable-next-line no-control-regex
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

const epochMs = z.number().int().min(0).max(8.64e15);

export const commandMessageSchema = z
  .object({
    v: z.literal(1).describe('Command format version: 1.'),
    id: commandIdSchema.describe('Chosen by the sender, unique per gateway for at least twice commands.maxExpiryAhead: the idempotency key. Printable ASCII, 1-128 characters.'),
    device: idSchema.describe('Target device id (its device file name unless it sets id).'),
    point: pointNameSchema.describe('Target point, as declared writable in the device file.'),
    action: z.enum(['write', 'pulse']).describe('write: set value; pulse: drive an output active for durationMs, then inactive.'),
    value: z.union([z.number(), z.boolean()]).optional().describe('For write: the value in engineering units (after scale), or true/false for coils and outputs.'),
    durationMs: z.number().int().min(1).max(600_000).optional().describe('For pulse: how long, ms; default the point\'s pulse.defaultMs.'),
    expiresAt: epochMs.describe('UTC ms since the epoch after which the command must not act. At most commands.maxExpiryAhead ahead of the gateway clock.'),
    issuedAt: epochMs.optional().describe('UTC ms when the command centre issued it (audit only; signed when present).'),
    keyId: z.string().min(1).max(64).optional().describe('Which configured public key signed it (default: try each).'),
    sig: z.string().min(1).max(200).optional().describe('Base64 Ed25519 signature over the signed text of docs/commands.md.'),
  })
  .superRefine((c, ctx) => {
    if (c.action === 'write' && c.value === undefined) ctx.addIssue({ code: 'custom', path: ['value'], message: 'a write needs a value' });
    if (c.action === 'write' && typeof c.value === 'number' && !Number.isFinite(c.value)) ctx.addIssue({ code: 'custom', path: ['value'], message: 'value must be finite' });
    if (c.action === 'pulse' && c.value !== undefined) ctx.addIssue({ code: 'custom', path: ['value'], message: 'a pulse takes durationMs, not a value' });
    if (c.action === 'write' && c.durationMs !== undefined) ctx.addIssue({ code: 'custom', path: ['durationMs'], message: 'durationMs belongs to a pulse' });
  });

export type CommandMessage = z.output<typeof commandMessageSchema>;

/** Most seqs one replay request may name: bounds the work and the traffic one message can cause. */
export const REPLAY_MAX_SEQS = 100_000;

const seqSchema = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/**
 * A request from the central side to re-send acknowledged readings the broker lost (a broker
 * crash without persistence): not a device write, so no point and no signature (it moves no
 * equipment and re-sends only what this gateway already published to the same broker).
 */
export const replayMessageSchema = z
  .object({
    v: z.literal(1).describe('Command format version: 1.'),
    id: commandIdSchema.describe('As for every command: the idempotency key.'),
    device: z.literal('_gateway').describe('A replay addresses the gateway itself.'),
    action: z.literal('replay').describe('replay: re-send the readings with seqs fromSeq..toSeq, marked replay: true.'),
    fromSeq: seqSchema.describe('First seq wanted.'),
    toSeq: seqSchema.describe(`Last seq wanted; at most ${REPLAY_MAX_SEQS} seqs per request.`),
    outbox: z.string().min(1).max(64).optional().describe('The outbox id the seqs belong to (from the batches); a request for another outbox is refused.'),
    expiresAt: epochMs.describe('UTC ms after which the request must not act. At most commands.maxExpiryAhead ahead.'),
    issuedAt: epochMs.optional().describe('UTC ms when it was issued (audit only).'),
  })
  .superRefine((c, ctx) => {
    if (c.toSeq < c.fromSeq) ctx.addIssue({ code: 'custom', path: ['toSeq'], message: 'toSeq is below fromSeq' });
    if (c.toSeq - c.fromSeq + 1 > REPLAY_MAX_SEQS) ctx.addIssue({ code: 'custom', path: ['toSeq'], message: `at most ${REPLAY_MAX_SEQS} seqs per request` });
  });

export interface ReplayRequest {
  id: string;
  fromSeq: number;
  toSeq: number;
  outbox?: string;
  expiresAt: number;
  issuedAt?: number;
  source: Command['source'];
}

export type ParsedReplay = { ok: true; replay: ReplayRequest } | { ok: false; id: string | null; reason: string };

/** What came in: a device command (the runner's) or a replay request (the replay handler's). */
export type ParsedInbound = { kind: 'command'; parsed: ParsedCommand } | { kind: 'replay'; parsed: ParsedReplay };

export interface Command {
  id: string;
  device: string;
  point: string;
  request: WriteRequest | { action: 'pulse'; durationMs?: number };
  expiresAt: number;
  issuedAt?: number;
  keyId?: string;
  sig?: string;
  /** Where it came from: the broker, or a technician's verb on this box. */
  source: 'mqtt' | 'local';
}

export type ParsedCommand = { ok: true; command: Command } | { ok: false; id: string | null; reason: string };

/**
 * Parse an inbound payload. Never throws: a malformed command is answered with a rejection that
 * names the problem (and the id, when one can be read, so the sender can match it).
 */
export function parseCommand(payload: Buffer | string, source: Command['source']): ParsedCommand {
  let raw: unknown;
  try {
    raw = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch {
    return { ok: false, id: null, reason: 'malformed: not JSON' };
  }
  return parseCommandObject(raw, source);
}

/** Parse an inbound payload and say whose it is: `action: "replay"` goes to the replay handler. */
export function parseInbound(payload: Buffer | string, source: Command['source']): ParsedInbound {
  let raw: unknown;
  try {
    raw = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch {
    return { kind: 'command', parsed: { ok: false, id: null, reason: 'malformed: not JSON' } };
  }
  if (raw !== null && typeof raw === 'object' && (raw as Record<string, unknown>).action === 'replay') return { kind: 'replay', parsed: parseReplayObject(raw, source) };
  return { kind: 'command', parsed: parseCommandObject(raw, source) };
}

function parseReplayObject(raw: unknown, source: Command['source']): ParsedReplay {
  const parsed = replayMessageSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, id: readableId(raw), reason: describeIssue(parsed.error) };
  const m = parsed.data;
  return {
    ok: true,
    replay: { id: m.id, fromSeq: m.fromSeq, toSeq: m.toSeq, expiresAt: m.expiresAt, source, ...(m.outbox !== undefined && { outbox: m.outbox }), ...(m.issuedAt !== undefined && { issuedAt: m.issuedAt }) },
  };
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  const where = issue.path.length > 0 ? issue.path.join('.') : 'command';
  return `malformed: ${where}: ${issue.message}`.slice(0, 300);
}

function parseCommandObject(raw: unknown, source: Command['source']): ParsedCommand {
  const parsed = commandMessageSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, id: readableId(raw), reason: describeIssue(parsed.error) };
  const m = parsed.data;
  const request: Command['request'] =
    m.action === 'write' ? { action: 'write', value: m.value! } : m.durationMs === undefined ? { action: 'pulse' } : { action: 'pulse', durationMs: m.durationMs };
  return {
    ok: true,
    command: { id: m.id, device: m.device, point: m.point, request, expiresAt: m.expiresAt, issuedAt: m.issuedAt, keyId: m.keyId, sig: m.sig, source },
  };
}

function readableId(raw: unknown): string | null {
  if (raw === null || typeof raw !== 'object') return null;
  const id = (raw as Record<string, unknown>).id;
  return commandIdSchema.safeParse(id).success ? (id as string) : null;
}
