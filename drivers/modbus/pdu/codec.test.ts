import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ModbusError } from '../errors.js';
import { encodeRequestPdu, type PduRequest } from './request.js';
import { announcedResponsePduLength, blockOf, expectedResponsePduLength, parseResponsePdu } from './response.js';

/**
 * The shared PDU codec against hand-written byte vectors: the examples of the Modbus Application
 * Protocol Specification V1.1b3 (section 6), written out here rather than produced by any encoder.
 */

const hex = (s: string) => Buffer.from(s.replace(/ /g, ''), 'hex');
const pdu = (req: PduRequest) => encodeRequestPdu(req, 1).toString('hex');

function parsed(req: PduRequest, bytes: string): Buffer {
  const r = parseResponsePdu(req, 1, hex(bytes));
  if (r instanceof ModbusError) throw r;
  return r;
}

function failure(req: PduRequest, bytes: string): ModbusError {
  const r = parseResponsePdu(req, 1, hex(bytes));
  if (!(r instanceof ModbusError)) throw new Error(`expected an error for ${bytes}`);
  return r;
}

describe('requests, as the spec lays them out', () => {
  it('read codes 1-4', () => {
    expect(pdu({ op: 'read', table: 'coil', address: 19, count: 19 })).toBe('0100130013'); // 6.1: coils 20-38
    expect(pdu({ op: 'read', table: 'discrete', address: 196, count: 22 })).toBe('0200c40016'); // 6.2: inputs 197-218
    expect(pdu({ op: 'read', table: 'holding', address: 107, count: 3 })).toBe('03006b0003'); // 6.3: registers 108-110
    expect(pdu({ op: 'read', table: 'input', address: 8, count: 1 })).toBe('0400080001'); // 6.4: register 9
  });

  it('write codes 5, 6, 15, 16', () => {
    expect(pdu({ op: 'write-coil', address: 172, value: true })).toBe('0500acff00'); // 6.5: coil 173 ON
    expect(pdu({ op: 'write-coil', address: 172, value: false })).toBe('0500ac0000');
    expect(pdu({ op: 'write-register', address: 1, value: 3 })).toBe('0600010003'); // 6.6: register 2 = 3
    // 6.11: 10 coils from 20: CD 01 (coils 27..20 = 1100 1101, 29..28 = 01)
    const coils = [true, false, true, true, false, false, true, true, true, false];
    expect(pdu({ op: 'write-coils', address: 19, values: coils })).toBe('0f0013000a02cd01');
    // 6.12: registers 2-3 = 000A 0102
    expect(pdu({ op: 'write-registers', address: 1, values: [0x000a, 0x0102] })).toBe('100001000204000a0102');
  });

  it('refuses what the spec does not allow, before anything is sent', () => {
    const bad: PduRequest[] = [
      { op: 'read', table: 'holding', address: 0, count: 126 },
      { op: 'read', table: 'coil', address: 0, count: 2001 },
      { op: 'read', table: 'holding', address: 65535, count: 2 },
      { op: 'write-register', address: 0, value: 65536 },
      { op: 'write-register', address: 0, value: -1 },
      { op: 'write-register', address: 0, value: 1.5 },
      { op: 'write-registers', address: 0, values: [] },
      { op: 'write-registers', address: 0, values: new Array<number>(124).fill(0) },
      { op: 'write-coils', address: 0, values: new Array<boolean>(1969).fill(true) },
      { op: 'write-coil', address: 70000, value: true },
      { op: 'write-coil', address: 0, value: 1 as unknown as boolean },
    ];
    for (const req of bad) {
      expect(() => encodeRequestPdu(req, 1), JSON.stringify(req)).toThrow(expect.objectContaining({ code: 'EBADREQUEST' }));
    }
    expect(() => encodeRequestPdu({ op: 'read', table: 'holding', address: 0, count: 1 }, 256)).toThrow(/unit id/);
  });
});

describe('responses', () => {
  it('read answers give their data bytes', () => {
    expect(parsed({ op: 'read', table: 'coil', address: 19, count: 19 }, '01 03 cd 6b 05')).toEqual(hex('cd6b05'));
    const regs = parsed({ op: 'read', table: 'holding', address: 107, count: 3 }, '03 06 022b 0000 0064');
    expect(blockOf('holding', 3, regs)).toEqual([555, 0, 100]);
    expect(blockOf('coil', 19, hex('cd6b05')).slice(0, 8)).toEqual([true, false, true, true, false, false, true, true]);
  });

  it('write answers must echo the request exactly', () => {
    expect(parsed({ op: 'write-coil', address: 172, value: true }, '05 00ac ff00')).toHaveLength(0);
    expect(parsed({ op: 'write-register', address: 1, value: 3 }, '06 0001 0003')).toHaveLength(0);
    expect(parsed({ op: 'write-coils', address: 19, values: new Array<boolean>(10).fill(true) }, '0f 0013 000a')).toHaveLength(0);
    expect(parsed({ op: 'write-registers', address: 1, values: [10, 258] }, '10 0001 0002')).toHaveLength(0);

    expect(failure({ op: 'write-coil', address: 172, value: true }, '05 00ac 0000').message).toMatch(/echoed value 0x0000, expected 0xff00/);
    expect(failure({ op: 'write-register', address: 1, value: 3 }, '06 0002 0003').message).toMatch(/echoed address 2, expected 1/);
    expect(failure({ op: 'write-registers', address: 1, values: [10, 258] }, '10 0001 0001').message).toMatch(/echoed quantity/);
    expect(failure({ op: 'write-registers', address: 1, values: [10, 258] }, '10 0001 0002 00').message).toMatch(/6 bytes, expected 5/);
    expect(failure({ op: 'write-register', address: 1, value: 3 }, '10 0001 0003')).toMatchObject({ code: 'EBADRESPONSE', kind: 'response' });
  });

  it('exceptions carry their code, for reads and writes alike', () => {
    expect(failure({ op: 'read', table: 'coil', address: 0, count: 1 }, '81 02')).toMatchObject({ code: 'MODBUS_EXCEPTION_2', kind: 'exception', exceptionCode: 2 });
    expect(failure({ op: 'write-registers', address: 0, values: [1] }, '90 04')).toMatchObject({ code: 'MODBUS_EXCEPTION_4', exceptionCode: 4 });
    expect(failure({ op: 'write-coil', address: 0, value: true }, '85 01').message).toMatch(/write coil 0 = true to unit 1: .*ILLEGAL FUNCTION/);
    // Another function's exception, or one with trailing bytes, is not ours to believe.
    expect(failure({ op: 'read', table: 'holding', address: 0, count: 1 }, '84 02')).toMatchObject({ code: 'EBADRESPONSE' });
    expect(failure({ op: 'read', table: 'holding', address: 0, count: 1 }, '83 02 00')).toMatchObject({ code: 'EBADRESPONSE' });
  });

  it('a read answer with the wrong byte count or length fails', () => {
    const req: PduRequest = { op: 'read', table: 'holding', address: 0, count: 2 };
    expect(failure(req, '03 02 0001').message).toMatch(/2 data bytes declared, 2 present, 4 expected/);
    expect(failure(req, '03 04 0001 00').message).toMatch(/4 data bytes declared, 3 present/);
    expect(failure(req, '03').message).toMatch(/no byte count/);
  });

  it('lengths: expected, and announced by the first bytes (RTU has no length field)', () => {
    const read: PduRequest = { op: 'read', table: 'coil', address: 0, count: 10 };
    expect(expectedResponsePduLength(read)).toBe(4);
    expect(announcedResponsePduLength(read, hex('01'))).toBeNull();
    expect(announcedResponsePduLength(read, hex('0102'))).toBe(4);
    expect(announcedResponsePduLength(read, hex('81'))).toBe(2);
    expect(announcedResponsePduLength(read, hex('03'))).toBeNull();
    expect(announcedResponsePduLength({ op: 'write-coil', address: 0, value: true }, hex('05'))).toBe(5);
    expect(expectedResponsePduLength({ op: 'write-registers', address: 0, values: [1, 2] })).toBe(5);
  });

  it('never throws, whatever arrives', () => {
    const reqs: PduRequest[] = [
      { op: 'read', table: 'holding', address: 0, count: 3 },
      { op: 'read', table: 'discrete', address: 0, count: 9 },
      { op: 'write-coil', address: 5, value: false },
      { op: 'write-registers', address: 5, values: [1, 2, 3] },
    ];
    fc.assert(
      fc.property(fc.constantFrom(...reqs), fc.uint8Array({ maxLength: 260 }), (req, bytes) => {
        const r = parseResponsePdu(req, 1, Buffer.from(bytes));
        expect(r instanceof ModbusError || Buffer.isBuffer(r)).toBe(true);
      }),
    );
  });
});
