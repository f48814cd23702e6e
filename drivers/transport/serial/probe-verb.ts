import type { ProbeVerb } from '../../probe-verb.js';
import { LINE_END_NAMES } from './terminator.js';

/** `edge-gateway probe serial`: its flags and bounds; the code (probe-command.ts) loads only when it runs. */
export const serialProbeVerb: ProbeVerb = {
  name: 'serial',
  description: 'print the lines a serial device sends, with timestamps (Ctrl-C to stop)',
  options: [
    { kind: 'text', flag: '--port', value: '<path>', description: 'serial port, e.g. /dev/serial/by-id/usb-FTDI_...', required: true },
    { kind: 'integer', flag: '--baud', value: '<n>', description: 'baud rate', min: 50, max: 4_000_000, default: 9600 },
    { kind: 'choice', flag: '--parity', value: '<p>', description: 'parity', choices: ['none', 'even', 'odd', 'mark', 'space'], default: 'none' },
    { kind: 'choice', flag: '--data-bits', value: '<n>', description: 'data bits', choices: ['5', '6', '7', '8'], default: '8' },
    { kind: 'choice', flag: '--stop-bits', value: '<n>', description: 'stop bits', choices: ['1', '1.5', '2'], default: '1' },
    { kind: 'choice', flag: '--terminator', value: '<t>', description: 'line end, as in the device file (any = CR, LF or CRLF)', choices: LINE_END_NAMES, default: 'any' },
    // The old name, kept so scripts written for it still run; like the device file's `delimiter`.
    { kind: 'choice', flag: '--delimiter', value: '<d>', description: 'old name of --terminator', choices: LINE_END_NAMES, hidden: true },
    { kind: 'integer', flag: '--lines', value: '<n>', description: 'stop after this many lines', min: 1, max: 1_000_000 },
    { kind: 'switch', flag: '--json', description: 'one JSON object per line (with the raw bytes in hex)' },
  ],
  run: async (args, term, signal) => (await import('./probe-command.js')).runProbeSerialVerb(args, term, signal),
};
