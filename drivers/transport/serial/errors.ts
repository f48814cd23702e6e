/**
 * Errors a technician can act on. Codes are stable so status pages, tests and the probe CLI can
 * branch on them; messages name the port and the likely fix instead of a libuv errno.
 */
export type SerialErrorCode =
  | 'SERIAL_NOT_FOUND'
  | 'SERIAL_PERMISSION_DENIED'
  | 'SERIAL_BUSY'
  | 'SERIAL_OPEN_FAILED'
  | 'SERIAL_UNPLUGGED'
  | 'SERIAL_IO_ERROR';

export class SerialPortError extends Error {
  readonly code: SerialErrorCode;
  readonly path: string;

  constructor(code: SerialErrorCode, path: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SerialPortError';
    this.code = code;
    this.path = path;
  }
}

function errnoCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * serialport's native binding reports open failures as plain Errors whose message carries the
 * strerror text ("Error: No such file or directory, cannot open /dev/x", "Error Resource
 * temporarily unavailable Cannot lock port") and no `code`, so both are checked.
 */
export function classifyOpenError(path: string, err: unknown): SerialPortError {
  if (err instanceof SerialPortError) return err;
  const code = errnoCode(err);
  const text = messageOf(err);
  if (code === 'ENOENT' || /no such file or directory/i.test(text)) {
    return new SerialPortError('SERIAL_NOT_FOUND', path, `serial port ${path} not found (is the adapter plugged in?)`, {
      cause: err,
    });
  }
  if (code === 'EACCES' || code === 'EPERM' || /permission denied|operation not permitted/i.test(text)) {
    return new SerialPortError(
      'SERIAL_PERMISSION_DENIED',
      path,
      `permission denied opening serial port ${path}: add the gateway's user to the 'dialout' group (sudo usermod -aG dialout <user>) and restart the service`,
      { cause: err },
    );
  }
  if (code === 'EBUSY' || /cannot lock port|resource temporarily unavailable|device or resource busy/i.test(text)) {
    return new SerialPortError(
      'SERIAL_BUSY',
      path,
      `serial port ${path} is in use by another process (is the edge-gateway daemon running? stop it or pick another port)`,
      { cause: err },
    );
  }
  if (code === 'ENXIO' || code === 'ENODEV' || code === 'EIO') {
    return new SerialPortError('SERIAL_UNPLUGGED', path, `serial port ${path} went away while opening (${text})`, {
      cause: err,
    });
  }
  return new SerialPortError('SERIAL_OPEN_FAILED', path, `cannot open serial port ${path}: ${text}`, { cause: err });
}

/** A port that was open and stopped delivering: a disconnect, a read error, or the path vanishing. */
export function classifyLossError(path: string, err: unknown): SerialPortError {
  if (err instanceof SerialPortError) return err;
  const code = errnoCode(err);
  const disconnected =
    (err && typeof err === 'object' && 'disconnected' in err && err.disconnected === true) ||
    (err && typeof err === 'object' && 'disconnect' in err && err.disconnect === true) ||
    code === 'ENXIO' ||
    code === 'EIO' ||
    code === 'ENODEV' ||
    code === 'EBADF';
  if (disconnected || err === null || err === undefined) {
    return new SerialPortError('SERIAL_UNPLUGGED', path, `serial port ${path} disconnected (${err ? messageOf(err) : 'closed'})`, {
      cause: err,
    });
  }
  return new SerialPortError('SERIAL_IO_ERROR', path, `read error on serial port ${path}: ${messageOf(err)}`, { cause: err });
}
