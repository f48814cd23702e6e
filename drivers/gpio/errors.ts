/** Errors a caller can branch on; `code` is stable, the message names the pin and what to do. */
export type GpioErrorCode =
  | 'GPIO_UNAVAILABLE'
  | 'GPIO_PERMISSION'
  | 'GPIO_BUSY'
  | 'GPIO_CHIP_NOT_FOUND'
  | 'GPIO_INVALID_PIN'
  | 'GPIO_IO';

export class GpioError extends Error {
  constructor(
    readonly code: GpioErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'GpioError';
  }
}

/** Translate an errno from sysfs/onoff into a GpioError that says which pin and what to do. */
export function gpioErrorFromErrno(err: unknown, pinLabel: string, action: string): GpioError {
  if (err instanceof GpioError) return err;
  const errno = (err as NodeJS.ErrnoException | null)?.code;
  const detail = err instanceof Error ? err.message : String(err);
  switch (errno) {
    case 'EACCES':
    case 'EPERM':
      return new GpioError(
        'GPIO_PERMISSION',
        `${pinLabel}: permission denied while ${action} (${detail}); add the service user to the "gpio" group or fix the udev rule`,
      );
    case 'EBUSY':
      return new GpioError(
        'GPIO_BUSY',
        `${pinLabel}: busy while ${action}; another process or a kernel driver (dtoverlay, 1-wire, SPI/I2C) holds it`,
      );
    case 'ENOENT':
      return new GpioError('GPIO_UNAVAILABLE', `${pinLabel}: GPIO sysfs not present while ${action} (${detail})`);
    case 'EINVAL':
      return new GpioError('GPIO_INVALID_PIN', `${pinLabel}: kernel rejected the pin while ${action} (${detail})`);
    default:
      return new GpioError('GPIO_IO', `${pinLabel}: ${errno ?? 'error'} while ${action} (${detail})`);
  }
}
