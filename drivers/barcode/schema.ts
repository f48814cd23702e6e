import { z } from 'zod';
import { deviceBaseSchema, pointNameSchema } from '../device-schema.js';
import { reopenDefaults, reopenSchema, serialPortSchema } from '../transport/serial/schema.js';
import { interCharTimeoutSchema, terminatorSchema } from '../transport/serial/terminator.js';
import { scanValidationSchema } from './validate.js';

const attrText = z.string().min(1).max(64);

/** What every scanner adds to its scan events, whatever the transport. */
const scanFields = {
  /** Reading point name of each scan event. */
  point: pointNameSchema.default('scan').describe('Point name of each scan event. Default scan.'),
  site: attrText.optional().describe('Site attribute added to every scan event (e.g. the car park), for central systems to route on.'),
  gate: attrText.optional().describe('Gate attribute added to every scan event.'),
  lane: z.union([attrText, z.number().int()]).optional().describe('Lane attribute (text or number) added to every scan event.'),
  direction: z.enum(['entry', 'exit']).optional().describe('entry or exit, added to every scan event.'),
  /** Stripped when present, e.g. a "STX"-style prefix programmed into the scanner. */
  stripPrefix: z.string().min(1).max(32).optional().describe('Removed from the start of a code when present, e.g. a prefix programmed into the scanner.'),
  stripSuffix: z.string().min(1).max(32).optional().describe('Removed from the end of a code when present.'),
  /** Strip and report "]Q1"-style AIM symbology identifiers. */
  aimIds: z.boolean().default(true).describe('Strip "]Q1"-style AIM symbology identifiers from codes and report the symbology in the event. Default true.'),
  /** Spaces can be payload (a QR text): trimmed only when asked, and only after the AIM id is off. */
  trim: z
    .boolean()
    .default(false)
    .describe('Remove leading/trailing whitespace from the code, after the prefix/suffix and AIM id are stripped. Off by default: spaces can be part of a QR payload'),
  /** Invalid scans are still emitted, marked valid=false with invalidReason. */
  validate: scanValidationSchema.optional().describe('Checks on each code (check digit, length, pattern). Invalid scans are still sent, marked valid=false with invalidReason.'),
  /** Repeats of the same code closer together than this are dropped (0 = keep all). */
  duplicateWindowMs: z.number().int().min(0).max(600_000).default(1500).describe('Repeats of the same code closer together than this are dropped and counted (0 = keep all). Milliseconds, 0-600000. Default 1500.'),
  /** Longest code accepted; longer input is dropped and counted (overlongCodes). */
  maxCodeLength: z.number().int().min(8).max(65_536).default(1024).describe('Longest code accepted, in characters; longer input is dropped and counted (overlongCodes). Default 1024.'),
};

export const barcodeSerialDeviceSchema = deviceBaseSchema
  .extend({
    type: z.literal('barcode-serial').describe('barcode-serial: a scanner on a serial or USB CDC port; one event per scan. A change to this file is applied by `edge-gateway reload`, which restarts only this device.'),
    port: serialPortSchema.describe('The scanner\'s serial port and line settings.'),
    terminator: terminatorSchema.default('any').describe('What ends a code: any (CR, LF or CRLF, whichever the scanner sends; the default), CR, LF, CRLF, TAB, or { custom: "\\u0003" }. With an explicit one, a code holding another ending logs MIXED_LINE_ENDINGS.'),
    interCharTimeoutMs: interCharTimeoutSchema,
    encoding: z.enum(['utf8', 'latin1']).default('utf8').describe('How code bytes are read: utf8 or latin1. Default utf8.'),
    ...scanFields,
  })
  .strict();

export const barcodeEvdevDeviceSchema = deviceBaseSchema
  .extend({
    type: z.literal('barcode-evdev').describe('barcode-evdev: a USB keyboard-wedge scanner read through Linux evdev (US key map with shift); one event per scan. A change to this file is applied by `edge-gateway reload`, which restarts only this device.'),
    /** e.g. /dev/input/by-id/usb-Honeywell_Imaging_..._-event-kbd (stable across re-plugs). */
    path: z.string().min(1).startsWith('/', 'an absolute path such as /dev/input/by-id/...-event-kbd').describe('evdev device, absolute, e.g. /dev/input/by-id/usb-Honeywell_Imaging_..._-event-kbd (stable across re-plugs). Required.'),
    /**
     * Take the keyboard exclusively (EVIOCGRAB) so codes are not also typed into a console login.
     * Node cannot ioctl, so this runs a small python3 helper that grabs and relays raw events;
     * it needs python3 on the box. false reads the device directly (codes also reach tty1).
     */
    grab: z.boolean().default(false).describe('Take the keyboard exclusively (EVIOCGRAB) so codes are not also typed into a console login; runs a small python3 helper. false reads the device directly (codes also reach tty1). Default false.'),
    pythonPath: z.string().min(1).default('python3').describe('python3 used for the grab helper (only with grab: true). Default python3 on PATH.'),
    /** struct input_event size: 24 bytes on 64-bit userlands, 16 on 32-bit (armhf). */
    eventLayout: z.enum(['auto', '64bit', '32bit']).default('auto').describe('struct input_event size: 64bit (24 bytes) or 32bit (16 bytes, armhf userland); auto picks by the running Node. Default auto.'),
    /** Autorepeat (value 2) from a scanner is a USB hiccup, not a doubled character. */
    autorepeat: z.enum(['ignore', 'type']).default('ignore').describe('Key autorepeat from a scanner is a USB hiccup: ignore drops it, type treats it as another key press. Default ignore.'),
    reopen: reopenSchema.default(reopenDefaults).describe('How a lost input device (unplugged scanner) is retried: backoff from initialDelayMs to maxDelayMs.'),
    ...scanFields,
  })
  .strict();

export type BarcodeSerialDeviceConfig = z.output<typeof barcodeSerialDeviceSchema>;
export type BarcodeEvdevDeviceConfig = z.output<typeof barcodeEvdevDeviceSchema>;
export type ScanConfig = Pick<
  BarcodeSerialDeviceConfig,
  'point' | 'site' | 'gate' | 'lane' | 'direction' | 'stripPrefix' | 'stripSuffix' | 'aimIds' | 'trim' | 'validate' | 'duplicateWindowMs'
>;
