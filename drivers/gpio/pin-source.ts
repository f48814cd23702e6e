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

/** An output line, driven from the moment it is claimed. Levels are PHYSICAL. */
export interface OutputHandle {
  readonly sysfs: number | null;
  /** Drive the line. Throws when it can no longer be written. */
  write(level: Level): void;
  /** The level the line reads back (sysfs value), for read-back after a write. */
  read(): Level;
  /** Release the line (its level stays as last written). Never throws. */
  close(): void;
}

export interface PinSource {
  /** Claim BCM `bcm` as an input. Rejects with a GpioError naming the pin. */
  open(bcm: number, label: string): Promise<PinHandle>;
  /** Claim BCM `bcm` as an output driven to `initial` at once (no glitch through the other level). */
  openOutput(bcm: number, label: string, initial: Level): Promise<OutputHandle>;
}
