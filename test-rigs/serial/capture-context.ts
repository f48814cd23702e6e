import { pino, type Logger } from 'pino';
import type { DriverContext } from '../../drivers/driver.js';
import type { DriverReading } from '../../gateway/model/reading.js';

export interface CapturingContext extends DriverContext {
  readonly readings: DriverReading[];
  /** Log records the driver wrote (parsed NDJSON), for asserting on warnings. */
  readonly logs: Array<Record<string, unknown>>;
}

/** A DriverContext that records what a driver emits and logs, as the core would receive it. */
export function capturingContext(deviceId = 'dev-1'): CapturingContext {
  const readings: DriverReading[] = [];
  const logs: Array<Record<string, unknown>> = [];
  const log: Logger = pino(
    { level: 'debug' },
    {
      write(line: string) {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  );
  return {
    deviceId,
    log: log.child({ device: deviceId }),
    readings,
    logs,
    emit(batch) {
      readings.push(...batch);
    },
  };
}
