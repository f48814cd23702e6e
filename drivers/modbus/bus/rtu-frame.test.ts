import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc16Modbus, crcMatches, withCrc } from './crc16.js';
import { blockOf } from '../pdu/response.js';
import { counterFor, encodeRtuRequest, expectedReplyLength, judgeReply, type RtuRequest } from './rtu-frame.js';
import { interFrameSilenceMs, frameEndGapMs } from './rtu-timing.js';

// modbus-serial's own CRC, as an independent reference for ours.
const referenceCrc = createRequire(import.meta.url)('modbus-serial/utils/crc16') as (b: Buffer) => number;

const holding: RtuRequest = { unitId: 7, pdu: { op: 'read', table: 'holding', address: 100, count: 2 } };
const reply = (bytes: number[]) => withCrc(Buffer.from(bytes));

describe('crc16', () => {
  it('matches the spec example and modbus-serial for any bytes', () => {
    // Modbus over Serial Line v1.02, 6.2.2: 02 07 -> CRC 0x1241 (sent 41 12).
    expect(crc16Modbus(Buffer.from([0x02, 0x07]))).toBe(0x1241);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 260 }), (bytes) => {
        expect(crc16Modbus(bytes)).toBe(referenceCrc(Buffer.from(bytes)));
      }),
    );
  });

  it('encodes a read request as the spec lays it out', () => {
    // Unit 1, FC3, address 0, 10 registers: the well-known 01 03 00 00 00 0A C5 CD.
    expect(encodeRtuRequest({ unitId: 1, pdu: { op: 'read', table: 'holding', address: 0, count: 10 } }).toString('hex')).toBe('01030000000ac5cd');
    expect(crcMatches(encodeRtuRequest(holding))).toBe(true);
  });
});

describe('judgeReply', () => {
  const good = reply([7, 3, 4, 0x12, 0x34, 0xab, 0xcd]);

  it('a complete good reply is data as soon as the last byte is in, even split in chunks', () => {
    expect(expectedReplyLength(holding)).toBe(good.length);
    for (let cut = 0; cut < good.length; cut++) expect(judgeReply(holding, good.subarray(0, cut), false).kind).toBe('incomplete');
    expect(judgeReply(holding, good, false)).toEqual({ kind: 'data', data: Buffer.from([0x12, 0x34, 0xab, 0xcd]), frameLength: good.length });
  });

  it('unpacks coils LSB first', () => {
    const req: RtuRequest = { unitId: 2, pdu: { op: 'read', table: 'coil', address: 0, count: 10 } };
    const v = judgeReply(req, reply([2, 1, 2, 0b0000_0101, 0b10]), false);
    if (v.kind !== 'data') throw new Error(`expected data, got ${v.kind}`);
    expect(blockOf('coil', 10, v.data)).toEqual([true, false, true, false, false, false, false, false, false, true]);
  });

  const classify = (buf: Buffer, final = false) => {
    const v = judgeReply(holding, buf, final);
    if (v.kind !== 'error') throw new Error(`expected an error verdict, got ${v.kind}`);
    return { code: v.error.code, counter: counterFor(v.error), message: v.error.message };
  };

  it('each fault gets its own code and counter', () => {
    const badCrc = Buffer.from(good);
    badCrc[badCrc.length - 1]! ^= 0xff;
    expect(classify(badCrc)).toMatchObject({ code: 'MODBUS_CRC_ERROR', counter: 'crcErrors' });
    expect(classify(reply([9, 3, 4, 0, 1, 0, 2]))).toMatchObject({ code: 'MODBUS_WRONG_UNIT', counter: 'wrongUnit' });
    expect(classify(reply([7, 0x83, 2]))).toMatchObject({ code: 'MODBUS_EXCEPTION_2', counter: 'exceptions' });
    expect(classify(good.subarray(0, 5), true)).toMatchObject({ code: 'MODBUS_SHORT_FRAME', counter: 'shortFrames' });
    expect(classify(reply([7, 3, 2, 0, 1]))).toMatchObject({ code: 'EBADRESPONSE', counter: 'badFrames' });
    expect(classify(reply([7, 4, 4, 0, 1, 0, 2]), true)).toMatchObject({ code: 'EBADRESPONSE', counter: 'badFrames' });
  });

  it('a foreign exception (wrong unit, good CRC) is a wrong unit, not an exception of ours', () => {
    expect(classify(reply([8, 0x83, 2]))).toMatchObject({ code: 'MODBUS_WRONG_UNIT' });
  });

  it('a short frame says how much arrived and shows the bytes', () => {
    expect(classify(good.subarray(0, 3), true).message).toMatch(/after 3 of 9 bytes \(07 03 04\)/);
  });

  it('never throws, whatever arrives', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, final) => {
        const v = judgeReply(holding, Buffer.from(bytes), final);
        expect(['incomplete', 'data', 'error']).toContain(v.kind);
      }),
    );
  });
});

describe('rtu timing', () => {
  it('t3.5 is 3.5 character times up to 19200 baud and 1.75 ms above; the reply-end gap has a floor', () => {
    expect(interFrameSilenceMs({ baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 })).toBeCloseTo(3.646, 2);
    expect(interFrameSilenceMs({ baudRate: 9600, dataBits: 8, parity: 'even', stopBits: 1 })).toBeCloseTo(4.010, 2);
    expect(interFrameSilenceMs({ baudRate: 115200, dataBits: 8, parity: 'none', stopBits: 1 })).toBe(1.75);
    // The end-of-reply gap never drops below the USB-adapter floor, and follows t3.5 at slow rates.
    expect(frameEndGapMs({ baudRate: 115200, dataBits: 8, parity: 'none', stopBits: 1 })).toBe(40);
    expect(frameEndGapMs({ baudRate: 300, dataBits: 8, parity: 'none', stopBits: 1 })).toBe(117);
  });
});
