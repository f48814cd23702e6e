import { z } from 'zod';
import { deviceBaseSchema, pointNameSchema } from '../device-schema.js';

/**
 * TEMPLATE: rename `template` everywhere in this folder to your family's config `type`.
 * This example reads one number from a text file each poll (a sysfs value such as
 * /sys/class/thermal/thermal_zone0/temp). Keep `.strict()`: an unknown key is a config error.
 */
export const templateDeviceSchema = deviceBaseSchema
  .extend({
    type: z.literal('template'),
    /** The file holding the value, e.g. /sys/class/thermal/thermal_zone0/temp. */
    path: z.string().min(1).startsWith('/', 'an absolute path'),
    point: pointNameSchema,
    unit: z.string().optional(),
    /** The file's number is multiplied by this (the thermal zone reports millidegrees: 0.001). */
    scale: z.number().default(1),
    intervalMs: z.number().int().min(10).max(3_600_000).default(1000),
  })
  .strict();

export type TemplateDevice = z.output<typeof templateDeviceSchema>;
