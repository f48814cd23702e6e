/** A wait between polls that stop() can cut short, so a driver stops promptly. */
export class InterruptibleSleep {
  private wake: (() => void) | null = null;

  sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wake = null;
        resolve();
      }
      this.wake = done;
    });
  }

  interrupt(): void {
    this.wake?.();
  }
}
