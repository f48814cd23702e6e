import type { DeviceError, DeviceStatus } from '../driver.js';
import type { HotplugCounters } from '../transport/serial/hotplug-stream.js';
import type { ScanOutcome } from './scan-event.js';

/** Counting and status shared by both scanner transports. */
export class ScanBook {
  readonly counters = {
    scans: 0,
    invalidScans: 0,
    duplicatesSuppressed: 0,
    emptyCodes: 0,
    overlongCodes: 0,
    /** Partial codes cut off by a pause and terminated lines of line noise, dropped. */
    fragmentsDiscarded: 0,
    /** Every byte dropped: fragments, noise lines and overlong input. */
    bytesDiscarded: 0,
    /** Codes holding a CR/LF inside: the configured terminator is not what the scanner sends. */
    mixedEndingCodes: 0,
  };
  lastGoodTs: number | null = null;
  lastProblem: DeviceError | null = null;

  /** Records the outcome; returns the reading to emit, if any. `rawBytes`: size of the input, for noise. */
  record(outcome: ScanOutcome, rawBytes = 0): ScanOutcome & { kind: 'event' } | null {
    switch (outcome.kind) {
      case 'noise':
        this.discarded(1, rawBytes);
        this.lastProblem = { code: 'SCAN_NOISE', message: 'line noise (bytes no barcode carries) discarded: loose cable, wrong baud rate or a scanner rebooting?', ts: Date.now() };
        return null;
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

  discarded(fragments: number, bytes: number): void {
    this.counters.fragmentsDiscarded += fragments;
    this.counters.bytesDiscarded += bytes;
  }

  mixedEndings(n: number, terminator: string): void {
    this.counters.mixedEndingCodes += n;
    this.lastProblem = {
      code: 'MIXED_LINE_ENDINGS',
      message: `a code contained a CR/LF although terminator is ${terminator}: scans are being merged; set terminator: any or the scanner's ending`,
      ts: Date.now(),
    };
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
