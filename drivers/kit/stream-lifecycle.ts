/** What the reopening transports offer (a serial line, an input device): open, first attempt, close. */
export interface ReopeningStream {
  start(): void;
  /** Resolves after the first open attempt, whether it worked or not. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * start/stop of a driver whose whole job hangs off one reopening stream: start returns once the
 * first open was tried (a missing device is reported in status, not thrown), and after stop
 * `running` is false at once, so a line already in flight is dropped rather than emitted.
 */
export class StreamLifecycle {
  running = false;

  constructor(private readonly stream: ReopeningStream) {}

  async start(): Promise<void> {
    this.running = true;
    this.stream.start();
    await this.stream.settled();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.stream.stop();
  }
}

