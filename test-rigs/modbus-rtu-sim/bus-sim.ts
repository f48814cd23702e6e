import { performance } from 'node:perf_hooks';
import { SerialPort } from 'serialport';
import { crcMatches, withCrc } from '../../drivers/modbus/bus/crc16.js';
import { UnitBank, type UnitOptions } from '../modbus-sim/bank.js';
import { exceptionPdu, handlePdu } from '../modbus-sim/pdu.js';

/**
 * A Modbus RTU bus of simulated slave units on the far end of a serial line (in tests, end `b`
 * of a socat pty pair from test-rigs/serial/pty.ts). Register data and PDU handling are the TCP
 * simulator's (UnitBank, handlePdu); this adds RTU framing and, per unit, the fault matrix of
 * modbus-serial's test port, switchable at any time:
 *
 *   none        a correct reply
 *   short       the reply with its last `drop` bytes (default 3) missing
 *   crc         the reply with a corrupted CRC
 *   wrong-unit  a correct reply carrying another unit id (`as`, default unit + 100)
 *   exception   exception `code` instead of the data
 *   silence     no reply at all
 *   slow        a correct reply after `ms`
 *
 * Like a real slave it ignores requests with a bad CRC, for units it does not simulate, and
 * broadcasts (unit 0). It also records, per request, how long the line had been quiet since its
 * own last reply left: the master's inter-frame silence, seen from the wire.
 */

export type RtuUnitFault =
  | { kind: 'none' }
  | { kind: 'short'; drop?: number }
  | { kind: 'crc' }
  | { kind: 'wrong-unit'; as?: number }
  | { kind: 'exception'; code: number }
  | { kind: 'silence' }
  | { kind: 'slow'; ms: number };

export interface RtuBusSimulatorOptions {
  /** The serial device to serve (a pty end). */
  path: string;
  units: Record<number, UnitOptions> | number[];
  baudRate?: number;
}

export interface RtuBusSimulatorStats {
  /** Requests with a good CRC, by unit id (simulated or not). */
  requests: Record<number, number>;
  /** Unit ids of the requests in arrival order, most recent last (max 10 000). */
  requestLog: number[];
  /** Function codes of the same requests, in the same order. */
  functionLog: number[];
  /** When each of the same requests was complete, performance.now() of this process (bench/commands.ts). */
  arrivalLog: number[];
  /** Requests dropped for a bad CRC or unparseable framing. */
  rejectedFrames: number;
  /** Quiet time (ms) between the end of one of our replies and the next request, most recent last (max 10 000). */
  silenceBeforeRequestMs: number[];
}

export interface RtuBusSimulator {
  readonly stats: RtuBusSimulatorStats;
  unit(id: number): UnitBank;
  setFault(unit: number, fault: RtuUnitFault): void;
  clearFault(unit: number): void;
  /** Reopen the device after the pty was unplugged and replugged (its path now points at a new node). */
  reattach(): Promise<void>;
  readonly attached: boolean;
  stop(): Promise<void>;
}

/** Length of a request frame from its header, or null if more bytes are needed. */
function requestLength(buf: Buffer): number | null {
  if (buf.length < 2) return null;
  const fc = buf[1]!;
  if (fc === 15 || fc === 16) return buf.length >= 7 ? 9 + buf[6]! : null;
  return 8; // FC 1-6 and anything unknown: unit, fc, 4 bytes, CRC
}

/** A partial request older than this is line noise; drop it so the next frame starts clean. */
const RESYNC_MS = 30;
const MAX_SAMPLES = 10_000;

export async function startRtuBusSimulator(opts: RtuBusSimulatorOptions): Promise<RtuBusSimulator> {
  const banks = new Map<number, UnitBank>();
  const entries: Array<[number, UnitOptions]> = Array.isArray(opts.units)
    ? opts.units.map((id) => [id, {}])
    : Object.entries(opts.units).map(([id, o]) => [Number(id), o]);
  for (const [id, o] of entries) {
    if (!Number.isInteger(id) || id < 1 || id > 247) throw new RangeError(`rtu simulator: unit id ${id} not in 1..247`);
    banks.set(id, new UnitBank(o));
  }
  const faults = new Map<number, RtuUnitFault>();
  const timers = new Set<NodeJS.Timeout>();
  const stats: RtuBusSimulatorStats = { requests: {}, requestLog: [], functionLog: [], arrivalLog: [], rejectedFrames: 0, silenceBeforeRequestMs: [] };
  let port: SerialPort | null = null;
  let rx = Buffer.alloc(0);
  let resyncTimer: NodeJS.Timeout | null = null;
  let lastReplyEnd: number | null = null;
  let requestToken = 0;
  let stopped = false;

  const send = (frame: Buffer) => {
    const p = port;
    if (!p || !p.isOpen) return;
    const token = requestToken;
    // The write callback fires once the bytes are in the pty, i.e. readable by the master: a
    // silence measured from here can only come out shorter than the real one, never longer.
    p.write(frame, (err) => {
      if (!err && token === requestToken) lastReplyEnd = performance.now();
    });
  };

  const reply = (unitId: number, request: Buffer) => {
    const bank = banks.get(unitId);
    if (!bank) return;
    const fault = faults.get(unitId) ?? { kind: 'none' };
    if (fault.kind === 'silence') return;
    const pdu = request.subarray(1, request.length - 2);
    const answer = fault.kind === 'exception' ? exceptionPdu(pdu[0] ?? 0, fault.code) : handlePdu(bank, pdu);
    let frame = withCrc(Buffer.concat([Buffer.from([fault.kind === 'wrong-unit' ? (fault.as ?? (unitId + 100) % 248) : unitId]), answer]));
    if (fault.kind === 'crc') frame[frame.length - 1]! ^= 0x5a;
    if (fault.kind === 'short') frame = frame.subarray(0, Math.max(1, frame.length - (fault.drop ?? 3)));
    if (fault.kind === 'slow') {
      const timer = setTimeout(() => {
        timers.delete(timer);
        send(frame);
      }, fault.ms);
      timers.add(timer);
      return;
    }
    send(frame);
  };

  const onData = (chunk: Buffer) => {
    if (rx.length === 0) {
      // A reply whose write has not even completed yet is not sampled (requestToken moves on).
      requestToken++;
      if (lastReplyEnd !== null) {
        stats.silenceBeforeRequestMs.push(performance.now() - lastReplyEnd);
        if (stats.silenceBeforeRequestMs.length > MAX_SAMPLES) stats.silenceBeforeRequestMs.shift();
      }
      lastReplyEnd = null;
    }
    rx = Buffer.concat([rx, chunk]);
    for (;;) {
      const len = requestLength(rx);
      if (len === null || rx.length < len) break;
      const frame = rx.subarray(0, len);
      rx = rx.subarray(len);
      if (!crcMatches(frame)) {
        // A real slave cannot find the next frame boundary in a corrupt stream; it waits for silence.
        stats.rejectedFrames++;
        rx = Buffer.alloc(0);
        break;
      }
      const unitId = frame[0]!;
      stats.requests[unitId] = (stats.requests[unitId] ?? 0) + 1;
      stats.requestLog.push(unitId);
      stats.functionLog.push(frame[1]!);
      stats.arrivalLog.push(performance.now());
      if (stats.requestLog.length > MAX_SAMPLES) {
        stats.requestLog.shift();
        stats.functionLog.shift();
        stats.arrivalLog.shift();
      }
      if (unitId !== 0) reply(unitId, frame);
    }
    if (resyncTimer) clearTimeout(resyncTimer);
    resyncTimer = null;
    if (rx.length > 0) {
      resyncTimer = setTimeout(() => {
        stats.rejectedFrames++;
        rx = Buffer.alloc(0);
      }, RESYNC_MS);
    }
  };

  const attach = async () => {
    const p = new SerialPort({ path: opts.path, baudRate: opts.baudRate ?? 9600, autoOpen: false, lock: false });
    await new Promise<void>((resolve, reject) => p.open((err) => (err ? reject(err) : resolve())));
    p.on('data', onData);
    // The pty vanishing under us (unplug) surfaces here; the test reattaches after a replug.
    p.on('error', () => undefined);
    p.on('close', () => {
      if (port === p) port = null;
    });
    port = p;
    rx = Buffer.alloc(0);
    lastReplyEnd = null;
  };

  const detach = async () => {
    const p = port;
    port = null;
    if (p?.isOpen) await new Promise<void>((r) => p.close(() => r()));
  };

  await attach();

  return {
    stats,
    get attached() {
      return port !== null;
    },
    unit(id) {
      const bank = banks.get(id);
      if (!bank) throw new RangeError(`rtu simulator: no unit ${id}`);
      return bank;
    },
    setFault(unit, fault) {
      faults.set(unit, fault);
    },
    clearFault(unit) {
      faults.delete(unit);
    },
    async reattach() {
      if (stopped) throw new Error('rtu simulator: reattach after stop');
      await detach();
      await attach();
    },
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      if (resyncTimer) clearTimeout(resyncTimer);
      await detach();
    },
  };
}
