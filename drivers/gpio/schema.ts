import { z } from 'zod';
import { deviceBaseSchema, pointNameSchema } from '../device-schema.js';

export const GPIO_SYSFS_ROOT = '/sys/class/gpio';

const inputSchema = z
  .object({
    /** Point name; counter/duration inputs report `<name>.count`/`.total` or `<name>.activeMs`/`.occupancy`. */
    name: pointNameSchema.describe('Point name; counter inputs report <name>.count, duration inputs <name>.activeMs and <name>.occupancy.'),
    /** BCM GPIO number as printed on Pi pinout charts (GPIO17 -> 17), not the header pin number. */
    pin: z.number().int().min(0).max(53).describe('BCM GPIO number as printed on Pi pinout charts (GPIO17 -> 17), not the header pin number. 0-53.'),
    /**
     * Which logical transitions count (after `activeLow`): rising = becomes active. Default:
     * `both` for state and duration, `rising` for counter.
     */
    edge: z.enum(['rising', 'falling', 'both']).optional().describe('Which logical transitions count (after activeLow): rising = becomes active, falling, both. Default both for state and duration, rising for counter.'),
    /** Input is active when the line is low (typical for switches to ground with a pull-up). */
    activeLow: z.boolean().default(false).describe('The input is active when the line is low (a switch to ground with a pull-up). Default false.'),
    /** A change is accepted once the line has been quiet this long; 0 disables debouncing. */
    debounceMs: z.number().int().min(0).max(10_000).default(20).describe('A change is accepted once the line has been quiet this long; 0 disables debouncing. Milliseconds, 0-10000. Default 20.'),
    mode: z.enum(['state', 'counter', 'duration']).default('state').describe('state: an event on each change (doors, barrier arms); counter: vehicle counts per interval (loop detectors); duration: active time and occupancy per interval. Default state.'),
    /** Reporting interval for counter/duration, aligned to wall-clock multiples. Default 60 000. */
    intervalMs: z.number().int().min(100).max(86_400_000).optional().describe('Reporting interval for counter and duration inputs, aligned to wall-clock multiples. Milliseconds, 100-86400000. Default 60000. Not for state inputs.'),
  })
  .strict()
  .refine((i) => i.mode !== 'state' || i.intervalMs === undefined, {
    message: 'intervalMs only applies to counter and duration inputs',
    path: ['intervalMs'],
  });

export const gpioDeviceSchema = deviceBaseSchema
  .extend({
    type: z.literal('gpio').describe('gpio: loop detectors, barrier arms, door and tamper switches on sysfs GPIO. A change to this file is applied by `edge-gateway reload`, which restarts only this device.'),
    /** gpiochip label to use; default: the first known Raspberry Pi label found (rp1, bcm2711, bcm2835). */
    chip: z.string().min(1).optional().describe('gpiochip label to use. Default: the first Raspberry Pi label found (rp1 on a Pi 5, bcm2711, bcm2835); BCM pins are offset by its base.'),
    /** Where gpiochip* entries are read from; only tests point this elsewhere (onoff always uses /sys/class/gpio). */
    sysfsRoot: z.string().min(1).default(GPIO_SYSFS_ROOT).describe('Where gpiochip* entries are read from. Default /sys/class/gpio; only tests change it.'),
    inputs: z.array(inputSchema).min(1).max(64).describe('The inputs, 1-64; names and pins unique.'),
  })
  .strict()
  .superRefine((c, ctx) => {
    const names = new Set<string>();
    const pins = new Map<number, string>();
    c.inputs.forEach((input, i) => {
      if (names.has(input.name)) {
        ctx.addIssue({ code: 'custom', path: ['inputs', i, 'name'], message: `duplicate input name "${input.name}"` });
      }
      const other = pins.get(input.pin);
      if (other !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['inputs', i, 'pin'], message: `pin ${input.pin} is already used by input "${other}"` });
      }
      names.add(input.name);
      pins.set(input.pin, input.name);
    });
  });

export type GpioDeviceConfig = z.output<typeof gpioDeviceSchema>;
export type GpioInputConfig = GpioDeviceConfig['inputs'][number];
export type Edge = 'rising' | 'falling' | 'both';

export function effectiveEdge(input: GpioInputConfig): Edge {
  return input.edge ?? (input.mode === 'counter' ? 'rising' : 'both');
}

export const DEFAULT_INTERVAL_MS = 60_000;
