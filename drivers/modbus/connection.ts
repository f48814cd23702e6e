import { resolve } from 'node:path';
import { pino } from 'pino';
import { serialPortSchema } from '../transport/serial/schema.js';
import { RtuBus } from './bus/rtu-bus.js';
import { ModbusError } from './errors.js';
import type { ModbusTable } from './schema.js';
import { MbapTransport } from './tcp-transport.js';

/**
 * Short-lived Modbus links for doctor and probe: open one, use it, close it, each step bounded in
 * time. They are the daemon's own transports (MBAP on a socket, the RTU bus scheduler) around the
 * same PDU codec, so what a technician probes is what the daemon runs.
 */
export interface ModbusLink {
  /** "tcp host:port" or "rtu /dev/... 9600 8N1", for messages. */
  readonly where: string;
  /** The answer's data bytes (registers big-endian, bits packed LSB first); rejects with a ModbusError. */
  read(unitId: number, table: ModbusTable, address: number, count: number, timeoutMs: number, signal: AbortSignal): Promise<Buffer>;
  close(): Promise<void>;
}

/** Connect, or reject with a ModbusError (ECONNREFUSED, ETIMEDOUT after `timeoutMs`, ...). */
export async function openModbusTcp(host: string, port: number, timeoutMs: number, signal = new AbortController().signal): Promise<ModbusLink> {
  const transport = await MbapTransport.connect(host, port, timeoutMs, signal);
  return {
    where: `tcp ${host}:${port}`,
    read: (unitId, table, address, count, readTimeoutMs, readSignal) => {
      if (readSignal.aborted) return Promise.reject(new ModbusError('ECANCELED', `read from unit ${unitId}: stopping`, 'other'));
      return transport.read(unitId, table, address, count, readTimeoutMs);
    },
    close: async () => transport.destroy(),
  };
}

export interface RtuLine {
  baudRate: number;
  parity: 'none' | 'even' | 'odd';
  dataBits: 7 | 8;
  stopBits: 1 | 2;
}

/**
 * Opens the port with the daemon's exclusive lock (serial-opener.ts), so a port the daemon holds
 * fails with SERIAL_BUSY rather than both stealing each other's bytes. Rejects with a ModbusError
 * carrying the serial code (SERIAL_NOT_FOUND, SERIAL_BUSY, ...) and its plain message.
 */
export async function openModbusRtu(path: string, line: RtuLine): Promise<ModbusLink> {
  const bus = new RtuBus({ port: serialPortSchema.parse({ path: resolve(path), ...line }), log: pino({ level: 'silent' }) });
  await bus.start();
  if (!bus.isOpen) {
    const e = bus.portError;
    await bus.stop();
    throw new ModbusError(e?.code ?? 'ENOTCONN', e?.message ?? `serial port ${path} did not open`, 'connection');
  }
  return {
    where: `rtu ${path} ${line.baudRate} ${line.dataBits}${line.parity[0]!.toUpperCase()}${line.stopBits}`,
    read: (unitId, table, address, count, timeoutMs, signal) => bus.read({ unitId, table, address, count }, timeoutMs, signal),
    close: () => bus.stop(),
  };
}
