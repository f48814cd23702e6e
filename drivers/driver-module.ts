import type { z } from 'zod';
import type { DriverFactory } from './driver.js';
import type { ProbeVerb } from './probe-verb.js';
import type { WritablePoint } from './writable-point.js';

/**
 * What a driver family tells the rest of the gateway about itself, one per config `type`. The
 * schema is cheap and always loaded, so config can be checked without loading any driver; `load`
 * pulls the driver code in only when a device of that type is configured (node-opcua alone costs
 * tens of MB). The technician commands (doctor, probe) ask the family through this object too,
 * so they never need to know which types exist or how a family talks to its hardware.
 */
export interface DriverModule<S extends z.ZodType = z.ZodType> {
  type: string;
  schema: S;
  load(): Promise<DriverFactory<z.output<S>>>;
  /**
   * Checks that span device files of this type (e.g. RS-485 units sharing one port), run by the
   * config loader after each file is valid on its own, so check-config catches them too.
   */
  checkDevices?(devices: z.output<S>[]): CrossDeviceProblem[];
  /** Like checkDevices, but what it finds is a warning (a deprecated option name): the config still loads. */
  warnDevices?(devices: z.output<S>[]): CrossDeviceProblem[];
  /**
   * Every device file and network address a device of this type opens. `doctor` checks each:
   * files with access(2) always, addresses only while the daemon is stopped.
   */
  opens(device: z.output<S>): DeviceOpening[];
  /**
   * A direct "does the device answer?" check, loaded only when doctor runs with the daemon
   * stopped. It stands in for the plain TCP connect doctor would otherwise try on `opens`'
   * addresses. Families whose devices accept one client at a time must not be asked while the
   * daemon runs, which is why doctor never calls this then.
   */
  loadAnswerCheck?(): Promise<DeviceAnswerCheck<z.output<S>>>;
  /**
   * The points a device file declares writable, with their policy, for the command channel and
   * doctor. Families without it have nothing writable. `validate` is the family's own refusal
   * of a value its point cannot hold (checked before the command is journaled as accepted).
   */
  writablePoints?(device: z.output<S>): WritablePoint[];
  /**
   * The driver sends its own `state` events on every transition (drivers/kit/device-state-log.ts,
   * or the camera's own). Otherwise the core watches the driver's status and sends them
   * (gateway/state-watch.ts), so every device's state reaches the central side.
   */
  emitsStateEvents?: boolean;
  /**
   * The names of the points a device of this type reports, as its file declares them (Modbus
   * registers, OPC-UA items, a line's fields, GPIO inputs' interval points...). Every device file
   * may have a `report:` block, so every family answers: the config loader refuses a
   * `report.points` override that names none of these (a typo would silently not filter).
   */
  pointNames(device: z.output<S>): string[];
}

/**
 * A driver family as the registry takes it, in one line: the config types it serves (one
 * DriverModule each) and, optionally, the technician's `edge-gateway probe <name>` command.
 */
export interface DriverFamily {
  /** Typed loosely here; drivers/registry.ts keeps each module's own schema type for the config union. */
  readonly modules: readonly { readonly type: string; readonly schema: z.ZodType }[];
  readonly probe?: ProbeVerb;
}

export interface CrossDeviceProblem {
  device: string;
  path: (string | number)[];
  message: string;
}

/** A device node or sysfs file the driver opens. */
export interface DeviceFile {
  kind: 'file';
  path: string;
  access: 'read' | 'write' | 'read-write';
  /** What it is, for a technician: "serial port", "input device". */
  what: string;
  /** The group that usually grants access on Debian / Raspberry Pi OS. */
  group: string;
  /** What to look at when the file does not exist. */
  missingHint: string;
}

/** A TCP endpoint the driver connects to. */
export interface DeviceAddress {
  kind: 'tcp';
  host: string;
  port: number;
  what: string;
}

export type DeviceOpening = DeviceFile | DeviceAddress;

/** One verdict of a family's own check; the same shape as a doctor line, so doctor lists it as is. */
export interface DeviceCheckResult {
  id: string;
  title: string;
  status: 'pass' | 'warn' | 'fail' | 'skip';
  detail: string;
  advice?: string;
}

export type DeviceAnswerCheck<C> = (device: C, timeoutMs: number) => Promise<DeviceCheckResult>;

/** The hints doctor gives for the usual kinds of device file. */
export const serialPortFile = (path: string): DeviceFile => ({
  kind: 'file',
  path,
  access: 'read-write',
  what: 'serial port',
  group: 'dialout',
  missingHint: 'is the USB adapter plugged in? list candidates with: ls -l /dev/serial/by-id/',
});
