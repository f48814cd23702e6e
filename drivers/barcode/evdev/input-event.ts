import { endianness } from 'node:os';

/**
 * Linux `struct input_event` as read(2) returns it from /dev/input/eventN:
 *   struct timeval time;  // 64-bit userland: 2 x int64 (16 bytes); 32-bit: 2 x int32 (8 bytes)
 *   __u16 type; __u16 code; __s32 value;
 * so 24-byte records on x86_64/arm64 and 16-byte records on armhf (also a 32-bit userland on a
 * 64-bit Pi kernel, which gets the compat layout). Host byte order.
 */
export type EventLayout = '64bit' | '32bit';

export interface InputEvent {
  /** Kernel timestamp (CLOCK_REALTIME unless someone changed the device clock), ms. */
  timeMs: number;
  type: number;
  code: number;
  value: number;
}

export const EV_SYN = 0;
export const EV_KEY = 1;
export const EV_MSC = 4;

export function recordSize(layout: EventLayout): number {
  return layout === '64bit' ? 24 : 16;
}

/** The layout this process reads, from its own architecture (not the kernel's). */
export function hostLayout(arch: string = process.arch): EventLayout {
  return arch === 'arm' || arch === 'ia32' || arch === 'mips' || arch === 'mipsel' || arch === 'ppc' ? '32bit' : '64bit';
}

export function resolveLayout(setting: 'auto' | EventLayout): EventLayout {
  return setting === 'auto' ? hostLayout() : setting;
}

const LE = endianness() === 'LE';

export function decodeInputEvent(buf: Buffer, offset: number, layout: EventLayout): InputEvent {
  if (layout === '64bit') {
    const sec = LE ? buf.readBigInt64LE(offset) : buf.readBigInt64BE(offset);
    const usec = LE ? buf.readBigInt64LE(offset + 8) : buf.readBigInt64BE(offset + 8);
    return {
      timeMs: Number(sec) * 1000 + Number(usec) / 1000,
      type: LE ? buf.readUInt16LE(offset + 16) : buf.readUInt16BE(offset + 16),
      code: LE ? buf.readUInt16LE(offset + 18) : buf.readUInt16BE(offset + 18),
      value: LE ? buf.readInt32LE(offset + 20) : buf.readInt32BE(offset + 20),
    };
  }
  const sec = LE ? buf.readInt32LE(offset) : buf.readInt32BE(offset);
  const usec = LE ? buf.readInt32LE(offset + 4) : buf.readInt32BE(offset + 4);
  return {
    timeMs: sec * 1000 + usec / 1000,
    type: LE ? buf.readUInt16LE(offset + 8) : buf.readUInt16BE(offset + 8),
    code: LE ? buf.readUInt16LE(offset + 10) : buf.readUInt16BE(offset + 10),
    value: LE ? buf.readInt32LE(offset + 12) : buf.readInt32BE(offset + 12),
  };
}

/**
 * Reassembles whole records from reads of any size: a stream read can end mid-record (the
 * relay pipe of the grab helper does, and so does any reader with an odd buffer size).
 */
export class InputEventReader {
  private readonly size: number;
  private partial: Buffer = Buffer.alloc(0);

  constructor(private readonly layout: EventLayout) {
    this.size = recordSize(layout);
  }

  push(chunk: Buffer): InputEvent[] {
    const data = this.partial.length > 0 ? Buffer.concat([this.partial, chunk]) : chunk;
    const whole = data.length - (data.length % this.size);
    const events: InputEvent[] = [];
    for (let off = 0; off < whole; off += this.size) events.push(decodeInputEvent(data, off, this.layout));
    this.partial = Buffer.from(data.subarray(whole));
    return events;
  }

  reset(): void {
    this.partial = Buffer.alloc(0);
  }
}
