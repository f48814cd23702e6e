import { z } from 'zod';
import { reportSchema } from '../gateway/report/rules.js';

/** Names that end up in topics, payloads and file names: keep them plain. */
export const idSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'letters, digits, and _ . : - (not first)');

export const pointNameSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:/-]*$/, 'letters, digits, and _ . : / - (not first)');

/**
 * Fields every device file has. `id` defaults to the file name (devices/pump-3.yaml -> pump-3),
 * which the loader fills in before validation. Each driver extends this with `.extend({...})`
 * and a literal `type`, and keeps `.strict()` so unknown keys are errors.
 */
export const deviceBaseSchema = z.object({
  id: idSchema.describe('Device id: the `device` of every reading and event, and its name in status and logs. Letters, digits and _ . : - (max 64). Default: the file name (devices/pump-3.yaml -> pump-3). Changing it makes central systems see a new device.'),
  /** A disabled device is validated but not started. */
  enabled: z.boolean().default(true).describe('false: the file is validated but the device is not started (and a reload stops it). Default true.'),
  description: z.string().optional().describe('Free text for people (what and where the device is); not sent upstream.'),
  report: reportSchema.optional(),
});
