/**
 * The seam between the GPIO driver and the hardware. Levels are PHYSICAL (1 = line high); the
 * driver applies activeLow, debouncing, edge selection and counting itself, so the same logic
 * runs on a Pi (onoff) and under test (test-rigs/fake-gpio).
 */
export type Level = 0 | 1;

export interface PinHandle {
  /** The sysfs GPIO number actually used, for status; null where there is none (fakes). */
  readonly sysfs: number | null;
  /** Current line level. Throws when the line can no longer be read. */
  read(): Level;
  /** Every raw level change, undebounced; `onError` when watching fails. */
  watch(onLevel: (level: Level) => void, onError: (err: Error) => void): void;
  /** Stop watching and release the line. Never throws. */
  close(): void;
}

export interface PinSource {
  /** Claim BCM `bcm` as an input. Rejects with a GpioError naming the pin. */
  open(bcm: number, label: string): Promise<PinHandle>;
}
