/**
 * What a driver hands to the core. The device id is filled in by the driver context and the
 * sequence number by the outbox at commit time, so neither appears here.
 */
export type Quality = 'good' | 'bad' | 'uncertain';

export type ReadingValue = number | boolean | string | null;

/** `telemetry` is periodic bulk data; `event` is a discrete happening (a scan, a state change). */
export type ReadingKind = 'telemetry' | 'event';

export interface DriverReading {
  point: string;
  value: ReadingValue;
  quality: Quality;
  /** Milliseconds since the Unix epoch, taken when the value was read from the device. */
  ts: number;
  unit?: string;
  kind?: ReadingKind;
  /** Small structured context for events (gate, lane, direction, reason...). Kept as given. */
  attrs?: Record<string, string | number | boolean>;
}

/** A reading as the core sees it: attributed to a device. */
export interface Reading extends DriverReading {
  device: string;
}
