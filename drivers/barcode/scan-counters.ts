import type { DeviceError, DeviceStatus } from '../driver.js';
import type { HotplugCounters } from '../transport/serial/hotplug-stream.js';
import type { ScanOutcome } from './scan-event.js';

/** Counting and status shared by both scanner transports. */
export class ScanBook {
  readonly counters = { scans: 0, invalidScans: 0, duplicatesSuppressed: 0, emptyCodes: 0, overlongCodes: 0 };
  lastGoodTs: number | null = null;
  lastProblem: DeviceError | null = null;

  /** Records the outcome; returns the reading to emit, if any. */
  record(outcome: ScanOutcome): ScanOutcome & { kind: 'event' } | null {
    switch (outcome.kind) {
      case 'empty':
        this.counters.emptyCodes++;
        return null;
      case 'duplicate':
        this.counters.duplicatesSuppressed++;
        return null;
      case 'event':
        this.counters.scans++;
        this.lastGoodTs = outcome.reading.ts;
        if (outcome.reading.attrs?.valid === false) this.counters.invalidScans++;
        return outcome;
    }
  }

  overlong(n: number, maxCodeLength: number): void {
    this.counters.overlongCodes += n;
    this.lastProblem = {
      code: 'CODE_TOO_LONG',
      message: `input longer than maxCodeLength=${maxCodeLength} without a terminator dropped (wrong terminator setting?)`,
      ts: Date.now(),
    };
  }

  status(running: boolean, open: boolean, port: { counters: HotplugCounters; lastError: DeviceError | null }, detail: Record<string, unknown>): DeviceStatus {
    let state: DeviceStatus['state'];
    if (!running) state = 'stopped';
    else if (open) state = 'ok';
    else state = port.counters.opens === 0 && port.lastError === null ? 'starting' : 'down';
    return {
      state,
      lastGoodTs: this.lastGoodTs,
      lastError: (open ? null : port.lastError) ?? this.lastProblem,
      counters: { ...this.counters, ...port.counters },
      detail,
    };
  }
}
