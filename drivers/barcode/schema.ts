import { z } from 'zod';
import { deviceBaseSchema, pointNameSchema } from '../device-schema.js';
import { reopenDefaults, reopenSchema, serialPortSchema } from '../transport/serial/schema.js';
import { terminatorSchema } from '../transport/serial/terminator.js';
import { scanValidationSchema } from './validate.js';

const attrText = z.string().min(1).max(64);

/** What every scanner adds to its scan events, whatever the transport. */
const scanFields = {
  /** Reading point name of each scan event. */
  point: pointNameSchema.default('scan'),
  site: attrText.optional(),
  gate: attrText.optional(),
  lane: z.union([attrText, z.number().int()]).optional(),
  direction: z.enum(['entry', 'exit']).optional(),
  /** Stripped when present, e.g. a "STX"-style prefix programmed into the scanner. */
  stripPrefix: z.string().min(1).max(32).optional(),
  stripSuffix: z.string().min(1).max(32).optional(),
  /** Strip and report "]Q1"-style AIM symbology identifiers. */
  aimIds: z.boolean().default(true),
  /** Invalid scans are still emitted, marked valid=false with invalidReason. */
  validate: scanValidationSchema.optional(),
  /** Repeats of the same code closer together than this are dropped (0 = keep all). */
  duplicateWindowMs: z.number().int().min(0).max(600_000).default(1500),
  /** Longest code accepted; longer input is dropped and counted (overlongCodes). */
  maxCodeLength: z.number().int().min(8).max(65_536).default(1024),
};

export const barcodeSerialDeviceSchema = deviceBaseSchema
  .extend({
    type: z.literal('barcode-serial'),
    port: serialPortSchema,
    terminator: terminatorSchema.default('CR'),
    encoding: z.enum(['utf8', 'latin1']).default('utf8'),
    ...scanFields,
  })
  .strict();

export const barcodeEvdevDeviceSchema = deviceBaseSchema
  .extend({
    type: z.literal('barcode-evdev'),
    /** e.g. /dev/input/by-id/usb-Honeywell_Imaging_..._-event-kbd (stable across re-plugs). */
    path: z.string().min(1).startsWith('/', 'an absolute path such as /dev/input/by-id/...-event-kbd'),
    /**
     * Take the keyboard exclusively (EVIOCGRAB) so codes are not also typed into a console login.
     * Node cannot ioctl, so this runs a small python3 helper that grabs and relays raw events;
     * it needs python3 on the box. false reads the device directly (codes also reach tty1).
     */
    grab: z.boolean().default(false),
    pythonPath: z.string().min(1).default('python3'),
    /** struct input_event size: 24 bytes on 64-bit userlands, 16 on 32-bit (armhf). */
    eventLayout: z.enum(['auto', '64bit', '32bit']).default('auto'),
    /** Autorepeat (value 2) from a scanner is a USB hiccup, not a doubled character. */
    autorepeat: z.enum(['ignore', 'type']).default('ignore'),
    reopen: reopenSchema.default(reopenDefaults),
    ...scanFields,
  })
  .strict();

export type BarcodeSerialDeviceConfig = z.output<typeof barcodeSerialDeviceSchema>;
export type BarcodeEvdevDeviceConfig = z.output<typeof barcodeEvdevDeviceSchema>;
export type ScanConfig = Pick<
  BarcodeSerialDeviceConfig,
  'point' | 'site' | 'gate' | 'lane' | 'direction' | 'stripPrefix' | 'stripSuffix' | 'aimIds' | 'validate' | 'duplicateWindowMs'
>;
