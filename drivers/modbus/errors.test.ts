import { describe, expect, it } from 'vitest';
import { classifyModbusError, ModbusError } from './errors.js';

/** Shapes below are what modbus-serial 8 and Node's net actually throw (see node_modules/modbus-serial/index.js). */
describe('classifyModbusError', () => {
  it.each([
    [Object.assign(new Error('Modbus exception 2: Illegal data address'), { modbusCode: 2 }), 'MODBUS_EXCEPTION_2', 'exception'],
    [Object.assign(new Error('Modbus exception 11: Gateway ...'), { modbusCode: 11 }), 'MODBUS_EXCEPTION_11', 'exception'],
    [{ name: 'TransactionTimedOutError', message: 'Timed out', errno: 'ETIMEDOUT' }, 'ETIMEDOUT', 'timeout'],
    [new Error('TCP Connection Timed Out'), 'ETIMEDOUT', 'timeout'],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'ECONNREFUSED', 'connection'],
    [Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), 'ECONNRESET', 'connection'],
    [{ name: 'PortNotOpenError', message: 'Port Not Open', errno: 'ECONNREFUSED' }, 'ENOTCONN', 'connection'],
    [new Error('CRC error'), 'EBADRESPONSE', 'response'],
    [new Error('Data length error, expected 7 got 5'), 'EBADRESPONSE', 'response'],
    ['something odd', 'EMODBUS', 'other'],
  ])('%o -> %s', (err, code, kind) => {
    const e = classifyModbusError(err, 'read holding 0+1 from unit 1');
    expect(e).toBeInstanceOf(ModbusError);
    expect(e.code).toBe(code);
    expect(e.kind).toBe(kind);
    expect(e.message).toMatch(/^read holding 0\+1 from unit 1: /);
  });

  it('names the exception in the message', () => {
    expect(classifyModbusError({ modbusCode: 2, message: 'x' }, 'ctx').message).toBe(
      'ctx: device answered Modbus exception 2 (ILLEGAL DATA ADDRESS)',
    );
  });
});
