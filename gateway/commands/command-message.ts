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
  const parsed = commandMessageSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? issue.path.join('.') : 'command';
    return { ok: false, id: readableId(raw), reason: `malformed: ${where}: ${issue.message}`.slice(0, 300) };
  }
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
