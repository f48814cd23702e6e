import type { Logger } from 'pino';
import type { DriverReading } from '../../gateway/model/reading.js';
import type { DeviceError, DeviceState, DeviceStatus, DriverContext } from '../driver.js';

/** The point of a device's state events (docs/payload.md, "Device state events"). */
export const STATE_POINT = 'state';

/**
 * The `state` event of a transition (docs/payload.md, "Device state events"): the new state, the
 * previous one and the reason code. The one shape for every driver, whether it reports its own
 * transitions (through DeviceStateLog) or the core watches its status (gateway/state-watch.ts).
 */
export function stateEvent(previous: DeviceState, next: DeviceState, error: { code: string; message: string } | null | undefined, ts: number): DriverReading {
  const attrs: Record<string, string> = { previous, reason: next === 'ok' ? 'ok' : (error?.code ?? 'NO_ANSWER') };
  if (next !== 'ok' && error?.message) attrs.message = error.message.slice(0, 300);
  return { point: STATE_POINT, value: next, quality: 'good', ts, kind: 'event', attrs };
}

/**
 * A device's state and last error, on transitions only: a device that stays down must not write
 * a log line, or send an event, per poll. Each transition (except into `stopped`, which is the
 * gateway's own doing) is also sent upstream as a `state` event, with the previous state and the
 * reason code, so the central side sees a device go down and come back without polling health.
 * Shared by the drivers (Modbus TCP and RTU, OPC-UA, the template).
 */
export class DeviceStateLog {
  state: DeviceState;
  lastError: DeviceError | null = null;
  private readonly log: Logger;
  private readonly emit: DriverContext['emit'];
  private readonly now: () => number;

  constructor(
    ctx: Pick<DriverContext, 'log' | 'emit'>,
    /** How the device is named in messages ("modbus device", "modbus rtu unit"). */
    private readonly noun: string,
    /** Where the device is (host/port/unit), added to every transition line. */
    private readonly where: Record<string, unknown>,
    opts: {
      /** The state before start() (a driver that reports `stopped` until started says so). */
      initial?: DeviceState;
      now?: () => number;
    } = {},
  ) {
    this.state = opts.initial ?? 'starting';
    this.now = opts.now ?? Date.now;
    this.log = ctx.log;
    this.emit = (readings) => ctx.emit(readings);
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
    if (next === 'stopped') return;
    this.emit([stateEvent(prev, next, error, this.now())]);
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
