/**
 * Checks the framing of what a broker sends, byte by byte, before mqtt.js's parser sees it.
 *
 * mqtt-packet buffers a whole packet before parsing it and has no size limit: a remaining length
 * of up to 256 MiB is simply awaited. mqtt.js checks MQTT 5's `maximumPacketSize` only after that,
 * and answers packets that arrive before CONNACK by queueing its replies in memory until the
 * connection is up. So this reads only each packet's fixed header (type, flags, remaining length)
 * and skips the body, keeping no bytes: a packet over `maxPacketBytes`, a malformed header, a type
 * a server never sends, or anything but CONNACK first is a violation, and the caller closes the
 * connection (MQTT 3.1.1 §4.8: on a protocol violation the receiver closes the network connection).
 */
export class InboundViolation extends Error {
  /** mqtt.js re-emits stream errors that carry a code as 'error' on the client. */
  readonly code = 'EMQTT_INBOUND';
  constructor(
    message: string,
    readonly kind: 'tooLarge' | 'malformed',
  ) {
    super(message);
  }
}

// Packet types by number (MQTT 3.1.1 §2.2.1) that a server may send, and the fixed-header flags
// each must carry (§2.2.2). PUBLISH (3) has its own flags; DISCONNECT (14) and AUTH (15) only in MQTT 5.
const NAMES = ['reserved', 'CONNECT', 'CONNACK', 'PUBLISH', 'PUBACK', 'PUBREC', 'PUBREL', 'PUBCOMP', 'SUBSCRIBE', 'SUBACK', 'UNSUBSCRIBE', 'UNSUBACK', 'PINGREQ', 'PINGRESP', 'DISCONNECT', 'AUTH'] as const;
const FROM_SERVER_V4 = new Map<number, number>([[2, 0], [4, 0], [5, 0], [6, 2], [7, 0], [9, 0], [11, 0], [13, 0]]);
const FROM_SERVER_V5 = new Map<number, number>([...FROM_SERVER_V4, [14, 0], [15, 0]]);
const PUBLISH = 3;
const CONNACK = 2;
const AUTH = 15;

/** Bytes of the fixed header for a remaining length: 1 type byte and 1-4 length bytes. */
function fixedHeaderBytes(remaining: number): number {
  return 1 + (remaining < 128 ? 1 : remaining < 16_384 ? 2 : remaining < 2_097_152 ? 3 : 4);
}

export class FrameCheck {
  private state: 'type' | 'length' | 'body' = 'type';
  private type = 0;
  private length = 0;
  private lengthBytes = 0;
  private bodyLeft = 0;
  private connacked = false;
  private readonly allowed: Map<number, number>;
  /** Packets whose header has been read so far (for the read throttle). */
  packets = 0;

  constructor(
    private readonly maxPacketBytes: number,
    protocolVersion: 4 | 5 = 4,
  ) {
    this.allowed = protocolVersion === 5 ? FROM_SERVER_V5 : FROM_SERVER_V4;
  }

  /** Feed the next chunk of the stream; the first violation found, or null. */
  push(chunk: Uint8Array): InboundViolation | null {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const skip = Math.min(this.bodyLeft, chunk.length - i);
        this.bodyLeft -= skip;
        i += skip;
        if (this.bodyLeft === 0) this.state = 'type';
        continue;
      }
      const byte = chunk[i++]!;
      if (this.state === 'type') {
        const err = this.checkType(byte);
        if (err) return err;
        this.packets++;
        this.state = 'length';
        this.length = 0;
        this.lengthBytes = 0;
        continue;
      }
      // Remaining length: 7 bits per byte, least significant first, at most 4 bytes (§2.2.3).
      this.length += (byte & 0x7f) * 128 ** this.lengthBytes++;
      if (byte & 0x80) {
        if (this.lengthBytes === 4) return new InboundViolation(`broker sent a ${NAMES[this.type]} with a malformed remaining length`, 'malformed');
        continue;
      }
      const total = fixedHeaderBytes(this.length) + this.length;
      if (total > this.maxPacketBytes) {
        return new InboundViolation(`broker sent a ${total}-byte ${NAMES[this.type]} packet; the limit is ${this.maxPacketBytes} bytes`, 'tooLarge');
      }
      this.bodyLeft = this.length;
      this.state = this.length === 0 ? 'type' : 'body';
    }
    return null;
  }

  private checkType(byte: number): InboundViolation | null {
    const type = byte >> 4;
    const flags = byte & 0x0f;
    this.type = type;
    const name = NAMES[type];
    if (type === PUBLISH) {
      if ((flags & 0x06) === 0x06) return new InboundViolation('broker sent a PUBLISH with QoS 3', 'malformed');
    } else {
      const required = this.allowed.get(type);
      if (required === undefined) return new InboundViolation(`broker sent a ${name} packet, which a server never sends`, 'malformed');
      if (flags !== required) return new InboundViolation(`broker sent a ${name} with reserved flags 0x${flags.toString(16)}`, 'malformed');
    }
    if (!this.connacked) {
      if (type === CONNACK) this.connacked = true;
      else if (type !== AUTH) return new InboundViolation(`broker sent ${name} before CONNACK`, 'malformed');
    } else if (type === CONNACK) {
      return new InboundViolation('broker sent a second CONNACK', 'malformed');
    }
    return null;
  }
}
