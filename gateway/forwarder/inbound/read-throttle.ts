import type { Duplex } from 'node:stream';

/**
 * Keeps a broker from taking the event loop: reading from the connection pauses whenever more
 * bytes or packets came in than the budget allows, for as long as it takes to pay the excess
 * back, and TCP flow control then slows the sender. Without it a flood of tiny packets (PINGRESP,
 * PUBREL for unknown ids) or of large unsolicited PUBLISHes, each answered or dropped by mqtt.js
 * at once, cut a 10 Hz Modbus device to under 1 poll/s. A well-behaved broker sends one ack per
 * batch and a few commands, far below the budget.
 *
 * mqtt.js pipes the socket into its parser, and a pipe resumes its source whenever the parser
 * drains; so the pause is kept by letting the stream's own resume() through only when no pause
 * is owed.
 */
export interface ReadBudget {
  bytesPerS: number;
  packetsPerS: number;
}

export class ReadThrottle {
  private bytes: number;
  private packets: number;
  private at: number;
  private timer: NodeJS.Timeout | null = null;
  private readonly resumeStream: () => Duplex;

  /** `onPause` is told how long each pause lasts (status shows the total). */
  constructor(
    private readonly stream: Duplex,
    private readonly budget: ReadBudget,
    private readonly onPause: (ms: number) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.bytes = budget.bytesPerS;
    this.packets = budget.packetsPerS;
    this.at = now();
    const resume = stream.resume.bind(stream);
    stream.resume = () => {
      if (this.timer === null) resume();
      return stream;
    };
    stream.once('close', () => {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
    });
    this.resumeStream = resume;
  }

  /** Account for a chunk just read, holding `packets` packet headers. */
  took(bytes: number, packets: number): void {
    const now = this.now();
    const dt = (now - this.at) / 1000;
    this.at = now;
    const { bytesPerS, packetsPerS } = this.budget;
    this.bytes = Math.min(bytesPerS, this.bytes + dt * bytesPerS) - bytes;
    this.packets = Math.min(packetsPerS, this.packets + dt * packetsPerS) - packets;
    const owedMs = Math.ceil(1000 * Math.max(-this.bytes / bytesPerS, -this.packets / packetsPerS, 0));
    if (owedMs <= 0 || this.timer !== null || this.stream.destroyed) return;
    this.stream.pause();
    this.onPause(owedMs);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.stream.destroyed) this.resumeStream();
    }, owedMs);
  }
}
