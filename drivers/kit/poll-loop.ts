import type { Logger } from 'pino';
import { InterruptibleSleep } from './interruptible-sleep.js';

/**
 * The start/stop half of a polling driver: runs the driver's loop body once in the background
 * (start() must not wait for a device that is away), lets stop() end it promptly (an abort signal
 * for I/O in flight, a sleep between polls that is cut short), and catches a loop that throws:
 * the body handles its own failures, so reaching the catch is a bug, logged and shown as `down`
 * rather than crashing the daemon. A stopped loop stays stopped; the core makes a new driver.
 */
export class PollLoop {
  private readonly abort = new AbortController();
  private readonly sleeper = new InterruptibleSleep();
  private loop: Promise<void> | null = null;

  constructor(
    private readonly log: Logger,
    /** Names the loop in the log line, e.g. "modbus poll loop". */
    private readonly name: string,
    /** Called after the loop ended unexpectedly, to mark the device down. */
    private readonly onCrash: () => void,
  ) {}

  /** True once stop() (or halt()) was called; the body checks it after every await. */
  get stopping(): boolean {
    return this.abort.signal.aborted;
  }

  /** Aborted by stop(): hand it to connects and reads so they give up at once. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Runs `body` in the background; a second call, or a call after stop(), does nothing. */
  start(body: () => Promise<void>): void {
    if (this.loop || this.stopping) return;
    this.loop = body().catch((err: unknown) => {
      this.log.error({ err }, `${this.name} ended unexpectedly`);
      this.onCrash();
    });
  }

  /** Sleeps between polls; returns at once when stopping or when stop() comes during the sleep. */
  sleep(ms: number): Promise<void> {
    return this.stopping ? Promise.resolve() : this.sleeper.sleep(ms);
  }

  /** Tells the loop to end without waiting for it, for drivers that must release something first. */
  halt(): void {
    this.abort.abort();
    this.sleeper.interrupt();
  }

  /** Tells the loop to end and waits until it has. */
  async stop(): Promise<void> {
    this.halt();
    await this.loop;
  }
}
