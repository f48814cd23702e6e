import { Store, type IClientOptions, type IPublishPacket, type MqttClient, type Packet } from 'mqtt';
import type { Logger } from 'pino';
import { RateLimitedLog } from '../../../drivers/kit/rate-limited-log.js';
import { FrameCheck, InboundViolation } from './frame-check.js';
import { ReadThrottle } from './read-throttle.js';
import { matchesAny } from './topic-filter.js';

/**
 * The one gate for everything a broker sends us. The gateway publishes; the only messages it takes
 * in are those on the topic filters of an `InboundRoute` it subscribed to (the command channel).
 * A broker, or anyone on a plain mqtt:// path, may still send anything, so:
 *
 * - Framing is checked before mqtt.js buffers a packet (`FrameCheck`): a packet over
 *   `maxPacketBytes`, a malformed header or anything before CONNACK closes the connection.
 * - Reading pauses when more bytes or packets arrive than `readBytesPerS` / `readPacketsPerS`
 *   (`ReadThrottle`), so no flood takes the event loop from the devices.
 * - A PUBLISH is admitted only if its topic matches a subscribed filter, its payload is within
 *   `maxMessageBytes`, the rate allows it (token bucket) and the delivery queue has room;
 *   otherwise it is dropped and counted by reason. It is still answered as the protocol requires
 *   (PUBACK, or PUBREC then PUBCOMP), so a broker has no reason to send it again.
 * - mqtt.js keeps every incoming QoS 2 PUBLISH until its PUBREL, unsolicited or not (a hostile
 *   broker that never sends PUBREL grew the daemon to 2.9 GiB in 50 s). Its incoming store here
 *   holds only admitted messages, at most `maxQueued` of them; a dropped QoS 2 message is never
 *   stored, and its PUBREL then finds nothing and is answered with PUBCOMP alone.
 * - Admitted messages reach the route's handler one at a time through a queue of `maxQueued`.
 *
 * Counters and limits live across connections; the frame check and the QoS 2 store are per
 * connection (a fresh mqtt.js client each time).
 */
export interface InboundMessage {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
}

export interface InboundRoute {
  /** Topic filters subscribed (QoS 1) on every connection; a PUBLISH matching none is unsolicited. */
  filters: readonly string[];
  /** Called one message at a time, in arrival order. A throw is counted and logged, never fatal. */
  handle(message: InboundMessage): Promise<void> | void;
}

export interface InboundLimits {
  /** Largest whole packet (header included) read at all; a larger one closes the connection. */
  maxPacketBytes: number;
  /** Largest payload delivered; a larger message on a subscribed topic is dropped and counted. */
  maxMessageBytes: number;
  /** Sustained admitted messages per second, and the burst allowed above it. */
  messagesPerS: number;
  burst: number;
  /** Admitted messages waiting for the handler or for their PUBREL, at most. */
  maxQueued: number;
  /** What is read from the broker per second at most, in bytes and in packets. */
  readBytesPerS: number;
  readPacketsPerS: number;
}

/**
 * Commands are small and rare. A packet up to 256 KiB is read and dropped rather than closing
 * the link (a stray large retained message on a subscribed topic must not stop forwarding);
 * beyond that nothing legitimate comes from a broker we only publish to.
 */
export const DEFAULT_INBOUND_LIMITS: InboundLimits = {
  maxPacketBytes: 256 * 1024,
  maxMessageBytes: 16 * 1024,
  messagesPerS: 20,
  burst: 40,
  maxQueued: 64,
  // A broker we publish to sends one PUBACK per batch (tens per second while a backlog drains).
  readBytesPerS: 1024 * 1024,
  readPacketsPerS: 500,
};

export interface InboundStats {
  /** PUBLISHes on topics the gateway did not subscribe to: dropped, never stored. */
  unsolicited: number;
  /** Subscribed messages over maxMessageBytes: dropped. */
  tooLarge: number;
  /** Subscribed messages over the rate or with the queue full: dropped. */
  overLimit: number;
  /** Connections closed because the broker broke the framing rules or sent a packet over maxPacketBytes. */
  violations: number;
  lastViolation: { message: string; ts: number } | null;
  /** Time reading from the broker was paused for sending faster than the read budget. */
  throttledMs: number;
  delivered: number;
  handlerErrors: number;
  queued: number;
}

export class InboundGuard {
  private readonly limits: InboundLimits;
  private readonly filters: readonly string[];
  private readonly admitted = new WeakSet<IPublishPacket>();
  private readonly queue: InboundMessage[] = [];
  private draining = false;
  private tokens: number;
  private refilledAt: number;
  private held: HeldQos2Store | null = null;
  private readonly counters = { unsolicited: 0, tooLarge: 0, overLimit: 0, violations: 0, throttledMs: 0, delivered: 0, handlerErrors: 0 };
  private lastViolation: InboundStats['lastViolation'] = null;
  private readonly warnings: RateLimitedLog;

  constructor(
    log: Logger,
    private readonly route: InboundRoute | null = null,
    limits: Partial<InboundLimits> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.limits = { ...DEFAULT_INBOUND_LIMITS, ...limits };
    this.filters = route?.filters ?? [];
    this.tokens = this.limits.burst;
    this.refilledAt = now();
    this.warnings = new RateLimitedLog(log, 60_000);
  }

  /** Topic filters to subscribe to once connected (none without a route). */
  get subscriptions(): readonly string[] {
    return this.filters;
  }

  /** Options for a new connection's mqtt.js client: the bounded QoS 2 store. */
  clientOptions(): Pick<IClientOptions, 'incomingStore'> {
    this.held = new HeldQos2Store(this.admitted, this.limits.maxQueued);
    return { incomingStore: this.held };
  }

  /** Call right after creating the client, before any byte arrives. */
  attach(client: MqttClient): void {
    const frames = new FrameCheck(this.limits.maxPacketBytes);
    const stream = client.stream;
    const throttle = new ReadThrottle(stream, { bytesPerS: this.limits.readBytesPerS, packetsPerS: this.limits.readPacketsPerS }, (ms) => {
      this.counters.throttledMs += ms;
      this.warnings.warn('throttled', { pauseMs: ms }, 'broker sends faster than the read budget; reading paused');
    });
    // Prepended, so a violation is seen before mqtt.js's parser buffers the chunk that carries it.
    stream.prependListener('data', (chunk: Uint8Array) => {
      if (stream.destroyed) return;
      const packetsBefore = frames.packets;
      const violation = frames.push(chunk);
      if (violation) return this.onViolation(stream, violation);
      throttle.took(chunk.length, frames.packets - packetsBefore);
    });
    client.on('packetreceive', (packet: Packet) => {
      if (packet.cmd === 'publish') this.admit(packet);
    });
    client.on('message', (topic, payload, packet) => {
      if (!this.admitted.has(packet)) return;
      this.admitted.delete(packet);
      this.queue.push({ topic, payload, qos: packet.qos, retain: packet.retain });
      void this.drain();
    });
  }

  private onViolation(stream: MqttClient['stream'], violation: InboundViolation): void {
    this.counters.violations++;
    this.lastViolation = { message: violation.message, ts: this.now() };
    this.warnings.warn(violation.kind, { err: violation.message }, 'broker broke the MQTT rules; connection closed');
    // Destroying the stream with a coded error makes mqtt.js emit 'error' then 'close': the
    // forwarder notes the error and reconnects with backoff, as after any lost connection.
    stream.destroy(violation);
  }

  private admit(packet: IPublishPacket): void {
    const topic = packet.topic.toString();
    if (!matchesAny(this.filters, topic)) {
      this.counters.unsolicited++;
      this.warnings.warn('unsolicited', { topic: topic.slice(0, 200), qos: packet.qos, bytes: packet.payload.length }, 'broker sent a message on a topic the gateway did not subscribe to; dropped');
      return;
    }
    if (packet.payload.length > this.limits.maxMessageBytes) {
      this.counters.tooLarge++;
      this.warnings.warn('tooLarge', { topic, bytes: packet.payload.length, limit: this.limits.maxMessageBytes }, 'inbound message over maxMessageBytes; dropped');
      return;
    }
    // A QoS 2 message already held (the broker re-sent it with DUP) is admitted again without cost.
    const again = packet.qos === 2 && this.held?.has(packet.messageId!) === true;
    if (!again && (!this.takeToken() || this.queue.length + (this.held?.size ?? 0) >= this.limits.maxQueued)) {
      this.counters.overLimit++;
      this.warnings.warn('overLimit', { topic, queued: this.queue.length }, 'inbound messages over the rate or queue limit; dropped');
      return;
    }
    this.admitted.add(packet);
  }

  private takeToken(): boolean {
    const now = this.now();
    const { messagesPerS, burst } = this.limits;
    this.tokens = Math.min(burst, this.tokens + ((now - this.refilledAt) / 1000) * messagesPerS);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }

  private async drain(): Promise<void> {
    if (this.draining || !this.route) return;
    this.draining = true;
    try {
      for (let m = this.queue.shift(); m; m = this.queue.shift()) {
        try {
          await this.route.handle(m);
          this.counters.delivered++;
        } catch (err) {
          this.counters.handlerErrors++;
          this.warnings.warn('handler', { err: (err as Error).message, topic: m.topic }, 'inbound message handler failed');
        }
      }
    } finally {
      this.draining = false;
    }
  }

  stats(): InboundStats {
    return { ...this.counters, lastViolation: this.lastViolation, queued: this.queue.length + (this.held?.size ?? 0) };
  }
}

/**
 * mqtt.js's incoming store for one connection, holding a QoS 2 PUBLISH from its PUBREC to its
 * PUBREL only if the guard admitted it, and at most `max` of them. Not holding a message is
 * safe: mqtt.js then answers the PUBREL with PUBCOMP and delivers nothing.
 */
class HeldQos2Store extends Store {
  private readonly ids = new Set<number>();

  constructor(
    private readonly admitted: WeakSet<IPublishPacket>,
    private readonly max: number,
  ) {
    super();
  }

  get size(): number {
    return this.ids.size;
  }

  has(messageId: number): boolean {
    return this.ids.has(messageId);
  }

  override put(packet: Packet, cb: (error?: Error) => void): this {
    if (packet.cmd !== 'publish' || !this.admitted.has(packet) || (this.ids.size >= this.max && !this.ids.has(packet.messageId!))) {
      cb();
      return this;
    }
    this.ids.add(packet.messageId!);
    return super.put(packet, cb);
  }

  override del(packet: Pick<Packet, 'messageId'>, cb: (error?: Error, packet?: Packet) => void): this {
    this.ids.delete(packet.messageId!);
    return super.del(packet, cb);
  }

  override close(cb: (error?: Error) => void): void {
    this.ids.clear();
    super.close(cb);
  }
}
