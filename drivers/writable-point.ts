import { z } from 'zod';
import { pointNameSchema } from './device-schema.js';

/**
 * What every family's writable point declares besides its address: the rules the command
 * channel enforces before anything reaches the device. A family extends `writablePolicySchema`
 * with its own addressing (a Modbus register, a GPIO pin, an OPC-UA node) and hands the policy to
 * the core through its module, so the core never learns how a family talks to its hardware.
 * Nothing is writable unless a device file declares it here.
 */
export const writablePolicySchema = z.object({
  name: pointNameSchema.describe('Name of the writable point: what a command names in "point". Unique within the device (it may equal a read point\'s name, for read-back).'),
  min: z.number().optional().describe('Smallest value a command may write (engineering units, after scale). A value below is refused, never clipped.'),
  max: z.number().optional().describe('Largest value a command may write (engineering units, after scale). A value above is refused, never clipped.'),
  allowed: z.array(z.union([z.number(), z.boolean()])).min(1).max(64).optional().describe('The only values a command may write (e.g. [0, 1, 2] for a sign\'s programs). Default: any value the type and min/max admit.'),
  minInterval: z.number().int().min(0).max(86_400_000).default(1000).describe('Milliseconds that must pass between two writes to this point; a command sooner is rejected (rate-limited). Default 1000.'),
  readBack: z.boolean().default(true).describe('After writing, read the point again and report a mismatch as a failed outcome. Default true; families that cannot read a point back say so in check-config.'),
  requireSignature: z.boolean().default(true).describe('When commands.publicKeys is set in gateway.yaml: commands for this point must carry a valid Ed25519 signature. Default true; false only for points that move nothing (a display text).'),
  allowUnsyncedClock: z.boolean().default(false).describe('Accept commands while the system clock is not known to be synchronised (expiry cannot be trusted then). Default false: such commands are rejected with clock-unsynced.'),
});

export type WritablePolicy = z.output<typeof writablePolicySchema>;

/** Bounds of the pulse action (on for durationMs, then off), for outputs and coils that take it. */
export const pulseBoundsSchema = z
  .object({
    minMs: z.number().int().min(10).max(600_000).default(100).describe('Shortest pulse a command may ask for, ms. Default 100.'),
    maxMs: z.number().int().min(10).max(600_000).default(5000).describe('Longest pulse a command may ask for, ms. Default 5000.'),
    defaultMs: z.number().int().min(10).max(600_000).default(800).describe('Pulse length when a command names none, ms. Default 800.'),
  })
  .strict()
  .refine((p) => p.minMs <= p.defaultMs && p.defaultMs <= p.maxMs, { message: 'needs minMs <= defaultMs <= maxMs' });

export type PulseBounds = z.output<typeof pulseBoundsSchema>;

/** Which actions a point takes: a pulse when it declares pulse bounds, only that when pulseOnly. */
export function actionsOf(p: { pulse?: PulseBounds; pulseOnly: boolean }): WriteRequest['action'][] {
  return p.pulseOnly ? ['pulse'] : p.pulse ? ['write', 'pulse'] : ['write'];
}

/** What a command asks of a point: set a value, or pulse an output for a while. */
export type WriteRequest = { action: 'write'; value: number | boolean } | { action: 'pulse'; durationMs: number };

/** A writable point as the command channel sees it: the policy and which actions it takes. */
export interface WritablePoint {
  device: string;
  policy: WritablePolicy;
  /** Which actions the family can carry out on it. */
  actions: readonly WriteRequest['action'][];
  /** Pulse bounds when `pulse` is an action (ms). */
  pulse?: { minMs: number; maxMs: number; defaultMs: number };
  /** The value type the family converts to, for a rejection that says what was expected. */
  valueType: 'number' | 'boolean';
  /** The family's own refusal of a value the point cannot hold exactly, or null. */
  validate?(request: WriteRequest): string | null;
}

/** What the device answered; `readBack` is the value read after the write, when read back. */
export interface WriteResult {
  readBack?: number | boolean;
  /** What the read-back should equal when the device cannot hold the value exactly (a float32). */
  expected?: number | boolean;
}

/** A write the family refused before touching the device (type, range, conversion). */
export class WriteRefused extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'WriteRefused';
  }
}
