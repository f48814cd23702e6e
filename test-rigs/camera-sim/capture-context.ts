import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { DriverContext } from '../../drivers/driver.js';
import type { DriverReading } from '../../gateway/model/reading.js';

export interface CapturedContext {
  ctx: DriverContext;
  readings: DriverReading[];
  /** Every NDJSON line the driver's logger wrote, as raw text (secrets are searched for in it). */
  logText(): string;
  logs(): Record<string, unknown>[];
}

/** A DriverContext whose emit and pino output are kept in memory for assertions. */
export function captureContext(deviceId: string, level: pino.LevelWithSilent = 'trace'): CapturedContext {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  const readings: DriverReading[] = [];
  const log = pino({ level }, sink).child({ device: deviceId });
  return {
    ctx: { deviceId, log, emit: (r) => readings.push(...r) },
    readings,
    logText: () => lines.join(''),
    logs: () =>
      lines
        .join('')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** Poll until `pred` holds; bounded so a broken driver fails the test instead of hanging it. */
export async function waitFor(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
