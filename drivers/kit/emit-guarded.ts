import type { DriverContext } from '../driver.js';
import type { DriverReading } from '../reading.js';

/**
 * Hands a poll's readings to the core without letting a throwing `emit` end the driver's loop:
 * the contract says emit never throws, and this keeps a broken core from becoming a dead driver.
 */
export function emitGuarded(ctx: Pick<DriverContext, 'emit' | 'log'>, readings: DriverReading[]): void {
  if (readings.length === 0) return;
  try {
    ctx.emit(readings);
  } catch (err) {
    ctx.log.error({ err }, 'emit threw; readings of this poll are lost');
  }
}
