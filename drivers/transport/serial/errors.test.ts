import { describe, expect, it } from 'vitest';
import { classifyLossError, classifyOpenError } from './errors.js';

describe('classifyOpenError', () => {
  it('maps the messages serialport really produces (no errno code) to stable codes', () => {
    // Verbatim from @serialport/bindings-cpp 12 on Linux.
    const missing = classifyOpenError('/dev/x', new Error('Error: No such file or directory, cannot open /dev/x'));
    expect(missing.code).toBe('SERIAL_NOT_FOUND');
    expect(missing.message).toBe('serial port /dev/x not found (is the adapter plugged in?)');
    expect(classifyOpenError('/dev/x', new Error('Error Resource temporarily unavailable Cannot lock port')).code).toBe('SERIAL_BUSY');
    const denied = classifyOpenError('/dev/x', new Error('Error: Permission denied, cannot open /dev/x'));
    expect(denied.code).toBe('SERIAL_PERMISSION_DENIED');
    expect(denied.message).toMatch(/dialout/);
  });

  it('maps errno codes too and keeps the cause', () => {
    const cause = Object.assign(new Error('open failed'), { code: 'EACCES' });
    const e = classifyOpenError('/dev/ttyUSB0', cause);
    expect(e.code).toBe('SERIAL_PERMISSION_DENIED');
    expect(e.cause).toBe(cause);
    expect(classifyOpenError('/dev/ttyUSB0', new Error('weird')).code).toBe('SERIAL_OPEN_FAILED');
  });
});

describe('classifyLossError', () => {
  it('treats disconnects, ENXIO, EIO and a plain close as an unplug', () => {
    expect(classifyLossError('/d', Object.assign(new Error('x'), { disconnected: true })).code).toBe('SERIAL_UNPLUGGED');
    expect(classifyLossError('/d', Object.assign(new Error('x'), { code: 'ENXIO' })).code).toBe('SERIAL_UNPLUGGED');
    expect(classifyLossError('/d', Object.assign(new Error('x'), { code: 'EIO' })).code).toBe('SERIAL_UNPLUGGED');
    expect(classifyLossError('/d', null).code).toBe('SERIAL_UNPLUGGED');
    expect(classifyLossError('/d', new Error('flush failed')).code).toBe('SERIAL_IO_ERROR');
  });
});
