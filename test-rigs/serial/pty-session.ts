import { afterEach } from 'vitest';
import type { Driver } from '../../drivers/driver.js';
import { PtyWriter } from '../scanner-sim/pty-writer.js';
import { createPtyPair, type PtyPair } from './pty.js';

/**
 * A serial driver test's fixture: a pty pair, a writer on the device side, and the driver under
 * test, closed after each test in the order that leaves nothing open (driver, writer, pair).
 * Call it inside a `describe`; it registers its own `afterEach`.
 */
export function ptySessionPerTest(): {
  open(): Promise<{ pair: PtyPair; writer: PtyWriter }>;
  track<D extends Driver>(driver: D): D;
} {
  let pair: PtyPair | null = null;
  let writer: PtyWriter | null = null;
  let driver: Driver | null = null;
  afterEach(async () => {
    await driver?.stop();
    await writer?.close();
    await pair?.close();
    driver = null;
    writer = null;
    pair = null;
  });
  return {
    async open() {
      pair = await createPtyPair();
      writer = new PtyWriter(pair.b);
      return { pair, writer };
    },
    track(d) {
      driver = d;
      return d;
    },
  };
}
