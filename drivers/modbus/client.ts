import modbusSerial from 'modbus-serial';
import { classifyModbusError, ModbusError } from './errors.js';
import type { ModbusTable } from './schema.js';

/**
 * The seam between protocol and transport: a poll reads blocks through `BlockReader`, and this
 * module adapts a connected modbus-serial client (TCP today, RTU later) to it.
 */

// modbus-serial is CommonJS with an ES-style .d.ts, so under NodeNext the default import is typed
// as the module namespace; at runtime its `module.exports.default` points back at the class.
export const ModbusRTU = modbusSerial.default;
export type ModbusClient = InstanceType<typeof ModbusRTU>;

export interface BlockReader {
  /** Registers as 0..65535 words, or bits; rejects with a ModbusError. */
  read(table: ModbusTable, address: number, count: number): Promise<readonly number[] | readonly boolean[]>;
}

/**
 * Slack on top of modbus-serial's own transaction timeout. Its promise never settles when the port
 * is destroyed mid-request (destroy() cancels the timers) or closed under it, so every request is
 * also raced against our own deadline and the stop signal: a poll can never hang.
 */
const DEADLINE_SLACK_MS = 250;

export interface ClientReaderOptions {
  unitId: number;
  timeoutMs: number;
  signal: AbortSignal;
}

export function clientBlockReader(client: ModbusClient, opts: ClientReaderOptions): BlockReader {
  return {
    async read(table, address, count) {
      const context = `read ${table} ${address}+${count} from unit ${opts.unitId}`;
      if (opts.signal.aborted) throw new ModbusError('ECANCELED', `${context}: driver stopping`, 'other');
      // modbus-serial keeps the unit id on the client; set it per request so one client can
      // serve several units (an RTU bus, a probe sweep).
      client.setID(opts.unitId);
      let pending: Promise<{ data: number[] | boolean[] }>;
      switch (table) {
        case 'holding':
          pending = client.readHoldingRegisters(address, count);
          break;
        case 'input':
          pending = client.readInputRegisters(address, count);
          break;
        case 'coil':
          pending = client.readCoils(address, count);
          break;
        case 'discrete':
          pending = client.readDiscreteInputs(address, count);
          break;
      }
      try {
        const res = await withDeadline(pending, opts.timeoutMs + DEADLINE_SLACK_MS, opts.signal);
        return res.data;
      } catch (err) {
        throw classifyModbusError(err, context);
      }
    },
  };
}

/**
 * Settle with `promise`, or reject with ETIMEDOUT after `ms`, or when `signal` aborts with its
 * reason if that is a ModbusError (connection lost) and ECANCELED otherwise (stopping).
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      // A ModbusError reason says why (e.g. the peer closed the connection); anything else is a stop.
      reject(signal.reason instanceof ModbusError ? signal.reason : new ModbusError('ECANCELED', 'driver stopping', 'other'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      reject(new ModbusError('ETIMEDOUT', `no answer within ${ms} ms`, 'timeout'));
    }, ms);
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
