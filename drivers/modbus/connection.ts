import { ModbusRTU, withDeadline, type ModbusClient } from './client.js';
import { classifyModbusError } from './errors.js';
import { classifyOpenError } from '../transport/serial/errors.js';

/**
 * Short-lived Modbus connections for doctor and probe: open one, use it, close it — each step
 * bounded in time, and open failures turned into messages a technician can act on.
 */

export async function openModbusTcp(host: string, port: number, timeoutMs: number): Promise<ModbusClient> {
  const client = new ModbusRTU();
  client.on('error', () => undefined);
  try {
    await withDeadline(client.connectTCP(host, { port, timeout: timeoutMs }), timeoutMs + 500, new AbortController().signal);
  } catch (err) {
    await closeModbus(client);
    throw classifyModbusError(err, `connect to ${host}:${port}`);
  }
  return client;
}

export interface RtuLine {
  baudRate: number;
  parity: 'none' | 'even' | 'odd';
  dataBits: 7 | 8;
  stopBits: 1 | 2;
}

/**
 * modbus-serial opens the port through serialport with its default exclusive lock, so a port the
 * daemon holds fails with "Cannot lock port", which classifyOpenError turns into SERIAL_BUSY.
 */
export async function openModbusRtu(path: string, line: RtuLine): Promise<ModbusClient> {
  const client = new ModbusRTU();
  client.on('error', () => undefined);
  try {
    await client.connectRTUBuffered(path, { baudRate: line.baudRate, parity: line.parity, dataBits: line.dataBits, stopBits: line.stopBits });
  } catch (err) {
    await closeModbus(client);
    throw classifyOpenError(path, err);
  }
  return client;
}

/**
 * modbus-serial's close/destroy call back only from the socket's 'close' event, which never comes
 * again for a connection that already failed; so the wait is bounded.
 */
export async function closeModbus(client: ModbusClient, timeoutMs = 1000): Promise<void> {
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, timeoutMs);
    try {
      client.close(() => {
        clearTimeout(t);
        resolve();
      });
    } catch {
      clearTimeout(t);
      resolve();
    }
  });
}
