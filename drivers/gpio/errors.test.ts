import { describe, expect, it } from 'vitest';
import { GpioError, gpioErrorFromErrno } from './errors.js';

const errno = (code: string) => Object.assign(new Error(`${code}: simulated, open '/sys/class/gpio/export'`), { code });

// Root in CI bypasses file permissions, so the errno -> advice mapping is checked directly.
describe('gpioErrorFromErrno', () => {
  it('names the pin and the fix for each errno', () => {
    const pin = 'input "door" (BCM 5)';
    expect(gpioErrorFromErrno(errno('EACCES'), pin, 'exporting')).toMatchObject({ code: 'GPIO_PERMISSION', message: expect.stringMatching(/^input "door" \(BCM 5\): permission denied.*"gpio" group/) });
    expect(gpioErrorFromErrno(errno('EBUSY'), pin, 'exporting').message).toMatch(/busy.*kernel driver/);
    expect(gpioErrorFromErrno(errno('EBUSY'), pin, 'exporting').code).toBe('GPIO_BUSY');
    expect(gpioErrorFromErrno(errno('ENOENT'), pin, 'exporting').code).toBe('GPIO_UNAVAILABLE');
    expect(gpioErrorFromErrno(errno('EINVAL'), pin, 'exporting').code).toBe('GPIO_INVALID_PIN');
    expect(gpioErrorFromErrno(errno('EIO'), pin, 'reading').code).toBe('GPIO_IO');
    const own = new GpioError('GPIO_CHIP_NOT_FOUND', 'x');
    expect(gpioErrorFromErrno(own, pin, 'y')).toBe(own);
  });
});
