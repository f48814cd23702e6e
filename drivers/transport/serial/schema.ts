import { z } from 'zod';

/** How a lost device is retried. Also used by the evdev scanner, which shares the reopen loop. */
export const reopenSchema = z
  .object({
    initialDelayMs: z.number().int().min(10).max(60_000).default(500),
    maxDelayMs: z.number().int().min(10).max(600_000).default(30_000),
    /** How often the configured path is checked: a pulled USB adapter does not always close the fd. */
    watchIntervalMs: z.number().int().min(50).max(60_000).default(1_000),
  })
  .strict()
  .refine((r) => r.maxDelayMs >= r.initialDelayMs, { message: 'maxDelayMs must be >= initialDelayMs' });

export const reopenDefaults = { initialDelayMs: 500, maxDelayMs: 30_000, watchIntervalMs: 1_000 } as const;

/**
 * Line settings of a serial device. `path` should be a stable name such as
 * /dev/serial/by-id/usb-FTDI_...-if00-port0: ttyUSB numbers change between boots and re-plugs.
 */
export const serialPortSchema = z
  .object({
    path: z.string().min(1).startsWith('/', 'an absolute device path such as /dev/serial/by-id/...'),
    baudRate: z.number().int().positive().max(4_000_000).default(9600),
    dataBits: z.union([z.literal(5), z.literal(6), z.literal(7), z.literal(8)]).default(8),
    parity: z.enum(['none', 'even', 'odd', 'mark', 'space']).default('none'),
    stopBits: z.union([z.literal(1), z.literal(1.5), z.literal(2)]).default(1),
    reopen: reopenSchema.default(reopenDefaults),
  })
  .strict();

export type SerialPortConfig = z.output<typeof serialPortSchema>;
export type ReopenConfig = z.output<typeof reopenSchema>;
