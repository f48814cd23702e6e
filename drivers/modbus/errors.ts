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

/**
 * Map what a socket or the DNS lookup threw (Node's errno codes) to a ModbusError; `context` says
 * which exchange. Answers from devices never come here: the PDU codec judges them (pdu/response.ts).
 */
export function classifyModbusError(err: unknown, context: string): ModbusError {
  if (err instanceof ModbusError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown; message?: unknown };
  const message = typeof e.message === 'string' && e.message !== '' ? e.message : String(err);
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code === 'ETIMEDOUT') return new ModbusError('ETIMEDOUT', `${context}: no answer in time`, 'timeout');
  if (code !== undefined && CONNECTION_CODES.has(code)) return new ModbusError(code, `${context}: ${message}`, 'connection');
  return new ModbusError(code ?? 'EMODBUS', `${context}: ${message}`, 'other');
}
