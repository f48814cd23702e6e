import type { Logger } from 'pino';
import type { DriverReading } from '../gateway/model/reading.js';
import type { PackedReadings } from '../gateway/model/packed-readings.js';
import type { WriteRequest, WriteResult } from './writable-point.js';

/**
 * The one interface between drivers and the core. A driver knows nothing of SQLite or MQTT:
 * it reads its device and calls `emit`. Everything it needs is handed in through the context.
 */
export interface DriverContext {
  readonly deviceId: string;
  readonly log: Logger;
  /** The gateway's state directory (where the outbox lives), for what a driver must keep across restarts. */
  readonly stateDir?: string;
  /**
   * Hand readings to the core. Never throws (the core contains and logs any failure past the
   * driver, by device), never blocks; the core buffers them durably.
   */
  emit(readings: DriverReading[]): void;
  /**
   * Optional fast path for bulk good values (gateway/model/packed-readings.ts): same contract as `emit`. A
   * driver given a context without it expands the readings and calls `emit`.
   */
  emitPacked?(readings: readonly PackedReadings[]): void;
}

export type DeviceState = 'starting' | 'ok' | 'degraded' | 'down' | 'stopped';

export interface DeviceError {
  /** Stable code a caller can branch on: ETIMEDOUT, ECONNREFUSED, MODBUS_EXCEPTION_2, CRC... */
  code: string;
  message: string;
  ts: number;
}

export interface DeviceStatus {
  state: DeviceState;
  /** When the device last produced a good reading (ms epoch), or null if never. */
  lastGoodTs: number | null;
  lastError: DeviceError | null;
  /**
   * Why the device is in `state` now, in words a technician can act on (which checks passed or
   * failed). Drivers that leave it out are explained by `lastError` when not ok.
   */
  stateReason?: string;
  /** When the device entered its current state (ms epoch), when the driver tracks it. */
  stateSince?: number;
  /** Per-kind error and activity counters, e.g. { polls: 120, timeouts: 3, exceptions: 1 }. */
  counters: Record<string, number>;
  /** Driver-specific detail worth showing a technician (e.g. circuit-breaker state). */
  detail?: Record<string, unknown>;
}

export interface Driver {
  /** Begin work. Must not throw for a device that is merely unreachable: report it in status. */
  start(): Promise<void>;
  /** Stop all timers, sockets and ports. After it resolves the driver emits nothing more. */
  stop(): Promise<void>;
  status(): DeviceStatus;
  /**
   * Write a point the device file declares writable (the core has already checked the policy).
   * Families that write put it on their bus ahead of pending polls, never inside another
   * transaction. Rejects with WriteRefused for a value the point cannot hold, any other error
   * when the device did not take it.
   */
  write?(point: string, request: WriteRequest): Promise<WriteResult>;
}

export type DriverFactory<C> = (config: C, ctx: DriverContext) => Driver;
