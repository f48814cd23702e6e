import { z } from 'zod';
import { deviceBaseSchema, pointNameSchema } from '../device-schema.js';
import type { DeclaredPoint } from '../kit/point-set.js';
import { pulseBoundsSchema, writablePolicySchema } from '../writable-point.js';

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

const levelName = z.enum(['active', 'inactive']);

/**
 * An output line (a barrier relay, a lamp) that the command channel may set or pulse. Its level
 * at start and at shutdown is declared, so a restart or a stop never leaves a relay energised by
 * accident. The policy fields (minInterval, readBack, requireSignature...) are the shared ones of
 * drivers/writable-point.ts; min/max/allowed do not apply to a line that is on or off.
 */
const outputSchema = writablePolicySchema
  .omit({ min: true, max: true, allowed: true })
  .extend({
    pin: z.number().int().min(0).max(53).describe('BCM GPIO number of the output (GPIO23 -> 23), not the header pin number. 0-53.'),
    activeLow: z.boolean().default(false).describe('The output is active when the line is driven low (relay boards that switch on low). Default false.'),
    initial: levelName.default('inactive').describe('Level set when the device starts (and after a reload restarts it). Default inactive.'),
    atShutdown: z.enum(['active', 'inactive', 'keep']).default('inactive').describe('Level set when the gateway stops or the device is stopped by a reload: inactive (default), active, or keep the last level.'),
    pulse: pulseBoundsSchema
      .optional()
      .describe('Allow the pulse action (active for durationMs, then inactive): a barrier relay. Bounds in ms; a command outside them is refused. Without it only write (true/false) is allowed.'),
    pulseOnly: z.boolean().default(false).describe('Allow only pulses, never a plain write that would leave the line active (a barrier that must close again by itself). Needs pulse. Default false.'),
  })
  .strict()
  .refine((o) => !o.pulseOnly || o.pulse !== undefined, { message: 'pulseOnly needs pulse', path: ['pulseOnly'] });

export const gpioDeviceSchema = deviceBaseSchema
  .extend({
    type: z.literal('gpio').describe('gpio: loop detectors, barrier arms, door and tamper switches on sysfs GPIO. A change to this file is applied by `edge-gateway reload`, which restarts only this device.'),
    /** gpiochip label to use; default: the first known Raspberry Pi label found (rp1, bcm2711, bcm2835). */
    chip: z.string().min(1).optional().describe('gpiochip label to use. Default: the first Raspberry Pi label found (rp1 on a Pi 5, bcm2711, bcm2835); BCM pins are offset by its base.'),
    /** Where gpiochip* entries are read from; only tests point this elsewhere (onoff always uses /sys/class/gpio). */
    sysfsRoot: z.string().min(1).default(GPIO_SYSFS_ROOT).describe('Where gpiochip* entries are read from. Default /sys/class/gpio; only tests change it.'),
    inputs: z.array(inputSchema).max(64).default([]).describe('The inputs, up to 64; names and pins unique across inputs and outputs.'),
    outputs: z.array(outputSchema).max(32).default([]).describe('Output lines the command channel may set or pulse (declared here, nothing else is writable), up to 32.'),
  })
  .strict()
  .superRefine((c, ctx) => {
    const names = new Set<string>();
    const pins = new Map<number, string>();
    if (c.inputs.length === 0 && c.outputs.length === 0) ctx.addIssue({ code: 'custom', path: ['inputs'], message: 'a gpio device needs at least one input or output' });
    c.outputs.forEach((output, i) => {
      if (names.has(output.name)) ctx.addIssue({ code: 'custom', path: ['outputs', i, 'name'], message: `duplicate output name "${output.name}"` });
      const other = pins.get(output.pin);
      if (other !== undefined) ctx.addIssue({ code: 'custom', path: ['outputs', i, 'pin'], message: `pin ${output.pin} is already used by ${other}` });
      names.add(output.name);
      pins.set(output.pin, `output "${output.name}"`);
    });
    c.inputs.forEach((input, i) => {
      if (names.has(input.name)) {
        ctx.addIssue({ code: 'custom', path: ['inputs', i, 'name'], message: `duplicate input name "${input.name}"` });
      }
      const other = pins.get(input.pin);
      if (other !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['inputs', i, 'pin'], message: `pin ${input.pin} is already used by ${other}` });
      }
      names.add(input.name);
      pins.set(input.pin, `input "${input.name}"`);
    });
  });

export type GpioDeviceConfig = z.output<typeof gpioDeviceSchema>;
export type GpioInputConfig = GpioDeviceConfig['inputs'][number];
export type GpioOutputConfig = GpioDeviceConfig['outputs'][number];
export type Edge = 'rising' | 'falling' | 'both';

export function effectiveEdge(input: GpioInputConfig): Edge {
  return input.edge ?? (input.mode === 'counter' ? 'rising' : 'both');
}

export const DEFAULT_INTERVAL_MS = 60_000;

/**
 * The points an input reports, with their units: a counter `<name>.count` and `.total`, a
 * duration input `<name>.activeMs` (ms) and `.occupancy` (%), each per interval in this order;
 * a state input its own name (events).
 */
export function inputPoints(input: Pick<GpioInputConfig, 'name' | 'mode'>): DeclaredPoint[] {
  switch (input.mode) {
    case 'counter':
      return [{ name: `${input.name}.count` }, { name: `${input.name}.total` }];
    case 'duration':
      return [
        { name: `${input.name}.activeMs`, unit: 'ms' },
        { name: `${input.name}.occupancy`, unit: '%' },
      ];
    case 'state':
      return [{ name: input.name }];
  }
}
