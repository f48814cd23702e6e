import type { Logger } from 'pino';
import type { DeviceError, DeviceState, DeviceStatus } from '../driver.js';

/**
 * A device's state and last error, logged on transitions only: a device that stays down must not
 * write a line per poll. Shared by the drivers (Modbus TCP and RTU, OPC-UA, the template).
 */
export class DeviceStateLog {
  state: DeviceState;
  lastError: DeviceError | null = null;

  constructor(
    private readonly log: Logger,
    /** How the device is named in messages ("modbus device", "modbus rtu unit"). */
    private readonly noun: string,
    /** Where the device is (host/port/unit), added to every transition line. */
    private readonly where: Record<string, unknown>,
    /** The state before start() (a driver that reports `stopped` until started says so). */
    initial: DeviceState = 'starting',
  ) {
    this.state = initial;
  }

  recordError(error: { code: string; message: string }): DeviceError {
    this.lastError = { code: error.code, message: error.message, ts: Date.now() };
    return this.lastError;
  }

  set(next: DeviceState, error?: { code: string; message: string } | null): void {
    const prev = this.state;
    if (prev === next) return;
    this.state = next;
    const where = { ...this.where, from: prev, to: next };
    if (next === 'down' || next === 'degraded') {
      this.log.warn({ ...where, code: error?.code }, `${this.noun} ${next}: ${error?.message ?? 'no answer'}`);
    } else {
      this.log.info(where, `${this.noun} ${next}`);
    }
  }

  /** The driver's status() from this state, with copies so a caller cannot change the driver's own. */
  status(lastGoodTs: number | null, counters: Record<string, number>, detail: Record<string, unknown>): DeviceStatus {
    return {
      state: this.state,
      lastGoodTs,
      lastError: this.lastError ? { ...this.lastError } : null,
      counters: { ...counters },
      detail,
    };
  }
}
