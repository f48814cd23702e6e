import { describe, expect, it } from 'vitest';
import { packetBytes } from '../../../test-rigs/broker/hostile-broker.js';
import { FrameCheck } from './frame-check.js';

const connack = packetBytes({ cmd: 'connack', returnCode: 0, sessionPresent: false });
const publish = (bytes: number) => packetBytes({ cmd: 'publish', topic: 't', payload: Buffer.alloc(bytes), qos: 1, messageId: 7, dup: false, retain: false });

describe('FrameCheck', () => {
  it('passes a well-framed stream split at every byte, and keeps nothing of the bodies', () => {
    const stream = Buffer.concat([connack, publish(5000), packetBytes({ cmd: 'pubrel', messageId: 3 }), packetBytes({ cmd: 'pingresp' }), publish(0)]);
    const check = new FrameCheck(8192);
    for (let i = 0; i < stream.length; i++) expect(check.push(stream.subarray(i, i + 1))).toBeNull();
  });

  it('refuses a packet over the limit as soon as its length is read, before its body arrives', () => {
    const check = new FrameCheck(64 * 1024);
    expect(check.push(connack)).toBeNull();
    const big = publish(70_000);
    const err = check.push(big.subarray(0, 5)); // type byte and remaining length only
    expect(err?.kind).toBe('tooLarge');
    expect(err?.message).toMatch(/70\d{3}-byte PUBLISH packet; the limit is 65536 bytes/);
    expect(new FrameCheck(5000).push(Buffer.concat([connack, publish(5000)]))?.kind).toBe('tooLarge');
  });

  it('refuses anything before CONNACK, a second CONNACK, client-only types, bad flags, QoS 3 and a 5-byte length', () => {
    const first = (bytes: Uint8Array) => new FrameCheck(1 << 20).push(bytes)?.message;
    const after = (bytes: Uint8Array) => new FrameCheck(1 << 20).push(Buffer.concat([connack, bytes]))?.message;
    expect(first(publish(10))).toMatch(/PUBLISH before CONNACK/);
    expect(first(packetBytes({ cmd: 'pingresp' }))).toMatch(/PINGRESP before CONNACK/);
    expect(after(connack)).toMatch(/second CONNACK/);
    expect(after(Buffer.from([0x10, 0x00]))).toMatch(/CONNECT packet, which a server never sends/);
    expect(after(Buffer.from([0xc0, 0x00]))).toMatch(/PINGREQ packet/);
    expect(after(Buffer.from([0x00, 0x00]))).toMatch(/reserved packet/);
    expect(after(Buffer.from([0x60, 0x02, 0x00, 0x01]))).toMatch(/PUBREL with reserved flags 0x0/);
    expect(after(Buffer.from([0x36, 0x00]))).toMatch(/QoS 3/);
    expect(after(Buffer.from([0xd0, 0xff, 0xff, 0xff, 0xff, 0x01]))).toMatch(/malformed remaining length/);
    expect(after(Buffer.from([0xe0, 0x00]))).toMatch(/DISCONNECT packet/); // MQTT 5 only
    expect(new FrameCheck(1 << 20, 5).push(Buffer.concat([connack, Buffer.from([0xe0, 0x00])]))).toBeNull();
  });
});
