import type { DriverReading } from '../../../gateway/model/reading.js';

/**
 * What one line turned into. Parsers are pure: they never throw on device input, they classify
 * it, and the driver turns the classification into counters and log lines.
 */
export type LineParseResult =
  /** Readings from the fields that converted; `badFields` lists the ones that did not. */
  | { kind: 'readings'; readings: DriverReading[]; badFields: string[] }
  /** Nothing usable: no match, wrong shape, or no field converted. */
  | { kind: 'unparsed'; reason: string }
  /** An NMEA sentence whose checksum is missing or wrong: the line is corrupt, drop it. */
  | { kind: 'checksum'; reason: string }
  /** Well-formed but not configured (an NMEA sentence nobody asked for). */
  | { kind: 'ignored' }
  /** An NMEA sentence that declares no valid fix, with `noFix: drop`. */
  | { kind: 'noFix'; reason: string };

export type LineParser = (line: string, ts: number) => LineParseResult;
