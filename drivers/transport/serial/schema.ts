import { z } from 'zod';

/** How a lost device is retried. Also used by the evdev scanner, which shares the reopen loop. */
export const reopenSchema = z
  .object({
    initialDelayMs: z.number().int().min(10).max(60_000).default(500).describe('First wait before reopening a lost serial device, doubling up to maxDelayMs. Milliseconds, 10-60000. Default 500.'),
    maxDelayMs: z.number().int().min(10).max(600_000).default(30_000).describe('Longest wait between reopen attempts. Milliseconds, 10-600000, >= initialDelayMs. Default 30000.'),
    /** How often the configured path is checked: a pulled USB adapter does not always close the fd. */
    watchIntervalMs: z.number().int().min(50).max(60_000).default(1_000).describe('How often the configured path is checked while open: a pulled USB adapter does not always close the port. Milliseconds, 50-60000. Default 1000.'),
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
    path: z.string().min(1).startsWith('/', 'an absolute device path such as /dev/serial/by-id/...').describe('Serial device, absolute. Use a stable name such as /dev/serial/by-id/usb-FTDI_...-if00-port0: ttyUSB numbers change between boots and re-plugs. Required.'),
    baudRate: z.number().int().positive().max(4_000_000).default(9600).describe('Line speed in bit/s, as set on the device (common: 4800, 9600, 19200, 38400, 115200). Default 9600.'),
    dataBits: z.union([z.literal(5), z.literal(6), z.literal(7), z.literal(8)]).default(8).describe('Data bits per character: 5, 6, 7 or 8. Default 8.'),
    parity: z.enum(['none', 'even', 'odd', 'mark', 'space']).default('none').describe('Parity: none, even, odd, mark or space. Modbus RTU devices often use even. Default none.'),
    stopBits: z.union([z.literal(1), z.literal(1.5), z.literal(2)]).default(1).describe('Stop bits: 1, 1.5 or 2. Default 1.'),
    reopen: reopenSchema.default(reopenDefaults).describe('How a lost port (unplugged adapter, device error) is retried: backoff from initialDelayMs to maxDelayMs; other devices are unaffected.'),
  })
  .strict();

export type SerialPortConfig = z.output<typeof serialPortSchema>;
export type ReopenConfig = z.output<typeof reopenSchema>;
