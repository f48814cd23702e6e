import { existsSync, writeFileSync } from 'node:fs';

/**
 * The system clock cannot be stepped safely on a shared box, so the daemon alone gets a fake
 * one: libfaketime (Debian package `faketime`) preloaded, with its offset read from a file the
 * test rewrites ("+1d", "+0"). Monotonic clocks stay real, so timers and keepalives behave as
 * they would during a real NTP step, which moves only the wall clock.
 */
const CANDIDATES = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/arm-linux-gnueabihf/faketime/libfaketime.so.1',
  '/usr/lib/faketime/libfaketime.so.1',
];

export class FakeClock {
  private constructor(
    readonly library: string,
    readonly offsetFile: string,
  ) {}

  static create(offsetFile: string): FakeClock {
    const library = CANDIDATES.find((p) => existsSync(p));
    if (library === undefined) {
      throw Object.assign(
        new Error(`libfaketime not found (looked in ${CANDIDATES.join(', ')}): install the Debian package "faketime" to run the clock-jump scenario`),
        { code: 'FAKETIME_MISSING' },
      );
    }
    const clock = new FakeClock(library, offsetFile);
    clock.set('+0');
    return clock;
  }

  /** libfaketime offset syntax: "+0", "+1d", "-2h". */
  set(offset: string): void {
    writeFileSync(this.offsetFile, `${offset}\n`);
  }

  env(): Record<string, string> {
    return {
      LD_PRELOAD: this.library,
      FAKETIME_TIMESTAMP_FILE: this.offsetFile,
      // Re-read the offset file at most once a second rather than on every clock call.
      FAKETIME_CACHE_DURATION: '1',
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
    };
  }
}
