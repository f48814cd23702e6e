import { describe, expect, it } from 'vitest';
import { classifyModbusError, ModbusError } from './errors.js';

/** Shapes below are what Node's net and dns throw; device answers are the PDU codec's (pdu/codec.test.ts). */
describe('classifyModbusError', () => {
  it.each([
    [Object.assign(new Error('connect ETIMEDOUT 10.0.0.9:502'), { code: 'ETIMEDOUT' }), 'ETIMEDOUT', 'timeout'],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'ECONNREFUSED', 'connection'],
    [Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), 'ECONNRESET', 'connection'],
    [Object.assign(new Error('getaddrinfo ENOTFOUND plc.invalid'), { code: 'ENOTFOUND' }), 'ENOTFOUND', 'connection'],
    [Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }), 'EPIPE', 'connection'],
    ['something odd', 'EMODBUS', 'other'],
  ])('%o -> %s', (err, code, kind) => {
    const e = classifyModbusError(err, 'read holding 0+1 from unit 1');
    expect(e).toBeInstanceOf(ModbusError);
    expect(e.code).toBe(code);
    expect(e.kind).toBe(kind);
    expect(e.message).toMatch(/^read holding 0\+1 from unit 1: /);
  });

  it('passes a ModbusError through unchanged', () => {
    const e = new ModbusError('MODBUS_EXCEPTION_2', 'ctx: device answered Modbus exception 2 (ILLEGAL DATA ADDRESS)', 'exception', 2);
    expect(classifyModbusError(e, 'other context')).toBe(e);
  });
});
