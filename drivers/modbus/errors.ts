/**
 * One error type with a stable `code` for everything a Modbus exchange can fail with, so status,
 * logs and counters branch on the code rather than on message strings.
 *
 * Codes: MODBUS_EXCEPTION_<n> (the device answered with exception n), ETIMEDOUT (no answer in
 * time), ECONNREFUSED / ECONNRESET / EHOSTUNREACH / ... (socket-level, from Node), ENOTCONN (no
 * open connection), EBADRESPONSE (answer malformed: bad length, wrong echo), EBADREQUEST (a request
 * outside the spec's limits, refused before sending), EMODBUS (anything else).
 */

export const MODBUS_EXCEPTION_NAMES: Readonly<Record<number, string>> = {
  1: 'ILLEGAL FUNCTION',
  2: 'ILLEGAL DATA ADDRESS',
  3: 'ILLEGAL DATA VALUE',
  4: 'SERVER DEVICE FAILURE',
  5: 'ACKNOWLEDGE',
  6: 'SERVER DEVICE BUSY',
  8: 'MEMORY PARITY ERROR',
  10: 'GATEWAY PATH UNAVAILABLE',
  11: 'GATEWAY TARGET DEVICE FAILED TO RESPOND',
};

export type ModbusErrorKind = 'exception' | 'timeout' | 'connection' | 'response' | 'other';

export class ModbusError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly kind: ModbusErrorKind,
    /** The Modbus exception code, for kind `exception`. */
    readonly exceptionCode?: number,
  ) {
    super(message);
    this.name = 'ModbusError';
  }
}

export function exceptionError(exceptionCode: number, context: string): ModbusError {
  const name = MODBUS_EXCEPTION_NAMES[exceptionCode] ?? 'UNKNOWN EXCEPTION';
  return new ModbusError(
    `MODBUS_EXCEPTION_${exceptionCode}`,
    `${context}: device answered Modbus exception ${exceptionCode} (${name})`,
    'exception',
    exceptionCode,
  );
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
  'ENOTCONN',
]);

/** Map whatever the socket (or a library) threw to a ModbusError; `context` says which exchange. */
export function classifyModbusError(err: unknown, context: string): ModbusError {
  if (err instanceof ModbusError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    modbusCode?: unknown;
    errno?: unknown;
    code?: unknown;
    message?: unknown;
  };
  const message = typeof e.message === 'string' && e.message !== '' ? e.message : String(err);
  if (typeof e.modbusCode === 'number') return exceptionError(e.modbusCode, context);
  // modbus-serial reports "Port Not Open" as errno ECONNREFUSED; it means we have no connection.
  if (message === 'Port Not Open') {
    return new ModbusError('ENOTCONN', `${context}: connection is not open`, 'connection');
  }
  const code = typeof e.code === 'string' ? e.code : typeof e.errno === 'string' ? e.errno : undefined;
  if (code === 'ETIMEDOUT' || /timed out/i.test(message)) {
    return new ModbusError('ETIMEDOUT', `${context}: no answer in time`, 'timeout');
  }
  if (code !== undefined && CONNECTION_CODES.has(code)) {
    return new ModbusError(code, `${context}: ${message}`, 'connection');
  }
  if (/CRC|length error|Data length/i.test(message)) {
    return new ModbusError('EBADRESPONSE', `${context}: malformed answer (${message})`, 'response');
  }
  return new ModbusError(code ?? 'EMODBUS', `${context}: ${message}`, 'other');
}
