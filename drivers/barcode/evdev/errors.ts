export type EvdevErrorCode =
  | 'EVDEV_NOT_FOUND'
  | 'EVDEV_PERMISSION_DENIED'
  | 'EVDEV_GRAB_FAILED'
  | 'EVDEV_HELPER_FAILED'
  | 'EVDEV_UNPLUGGED'
  | 'EVDEV_IO_ERROR';

export class EvdevError extends Error {
  readonly code: EvdevErrorCode;
  constructor(code: EvdevErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EvdevError';
    this.code = code;
  }
}

/** Plain messages for the errno values opening or reading an input device produces. */
export function evdevErrorFromErrno(path: string, errno: string | undefined, detail: string, phase: 'open' | 'read', cause?: unknown): EvdevError {
  switch (errno) {
    case 'ENOENT':
      return new EvdevError('EVDEV_NOT_FOUND', `input device ${path} not found (is the scanner plugged in?)`, { cause });
    case 'EACCES':
    case 'EPERM':
      return new EvdevError(
        'EVDEV_PERMISSION_DENIED',
        `permission denied reading input device ${path}: add the gateway's user to the 'input' group (sudo usermod -aG input <user>) and restart the service`,
        { cause },
      );
    case 'ENODEV':
    case 'ENXIO':
    case 'EIO':
      return new EvdevError('EVDEV_UNPLUGGED', `input device ${path} went away (${detail})`, { cause });
    default:
      return new EvdevError('EVDEV_IO_ERROR', `${phase} of input device ${path} failed: ${detail}`, {
        cause,
      });
  }
}

export function errnoOf(err: unknown): string | undefined {
  return err && typeof err === 'object' && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}
