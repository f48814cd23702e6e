import type { ProbeVerb } from '../probe-verb.js';
import { modbusTables } from './schema.js';

/** `edge-gateway probe modbus`: its flags and bounds; the code (probe-command.ts) loads only when it runs. */
export const modbusProbeVerb: ProbeVerb = {
  name: 'modbus',
  description: 'find Modbus units that answer and show their registers decoded every way',
  options: [
    { kind: 'text', flag: '--port', value: '<path>', description: 'serial port for Modbus RTU, e.g. /dev/serial/by-id/usb-FTDI_...' },
    { kind: 'text', flag: '--host', value: '<host>', description: 'Modbus TCP device or gateway' },
    { kind: 'integer', flag: '--tcp-port', value: '<n>', description: 'Modbus TCP port', min: 1, max: 65535, default: 502 },
    { kind: 'integer', flag: '--baud', value: '<n>', description: 'RTU baud rate', min: 50, max: 4_000_000, default: 9600 },
    { kind: 'integers', flag: '--bauds', value: '<list>', description: 'RTU: try each baud rate, e.g. 9600,19200,38400', min: 50, max: 4_000_000 },
    { kind: 'choice', flag: '--parity', value: '<p>', description: 'RTU parity', choices: ['none', 'even', 'odd'], default: 'none' },
    { kind: 'choice', flag: '--data-bits', value: '<n>', description: 'RTU data bits', choices: ['7', '8'], default: '8' },
    { kind: 'choice', flag: '--stop-bits', value: '<n>', description: 'RTU stop bits', choices: ['1', '2'], default: '1' },
    { kind: 'text', flag: '--unit', value: '<ids>', description: 'unit ids: 5, 1-247 or 1,2,10-12', default: '1-247' },
    { kind: 'integer', flag: '--register', value: '<address>', description: 'first register address (0-based, as on the wire)', min: 0, max: 65535, required: true },
    { kind: 'integer', flag: '--count', value: '<n>', description: 'registers to read (2 shows 32-bit decodings, 4 shows float64)', min: 1, max: 125, default: 2 },
    { kind: 'choice', flag: '--table', value: '<t>', description: 'register table', choices: modbusTables, default: 'holding' },
    { kind: 'integer', flag: '--timeout', value: '<ms>', description: 'answer timeout per unit', min: 20, max: 10_000, default: 300 },
    { kind: 'switch', flag: '--json', description: 'print the results as JSON' },
  ],
  run: async (args, term, signal) => (await import('./probe-command.js')).runProbeModbusVerb(args, term, signal),
};
