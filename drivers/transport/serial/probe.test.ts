import { afterEach, describe, expect, it } from 'vitest';
import { createPtyPair, type PtyPair } from '../../../test-rigs/serial/pty.js';
import { PtyWriter } from '../../../test-rigs/scanner-sim/pty-writer.js';
import { openSerialPort } from './serial-opener.js';
import { probeSerial } from './probe.js';

describe('probeSerial over a real pty', () => {
  let pair: PtyPair | null = null;
  let writer: PtyWriter | null = null;
  afterEach(async () => {
    await writer?.close();
    await pair?.close();
    pair = null;
  });

  it('yields timestamped, printable lines and closes the port when done', async () => {
    pair = await createPtyPair();
    writer = new PtyWriter(pair.b);
    const before = Date.now();
    const probe = probeSerial({ port: pair.a, baudRate: 9600, maxLines: 2 });
    const first = probe.next();
    await writer.write('WS T=21.5\r\n\x02BEL\x07\n');
    const lines = [(await first).value, (await probe.next()).value];
    expect(lines.map((l) => l?.text)).toEqual(['WS T=21.5', '\\x02BEL\\x07']);
    expect(lines[0]!.ts).toBeGreaterThanOrEqual(before);
    expect((await probe.next()).done).toBe(true);
    // Released: the daemon (or the next probe) can take the port.
    const again = await openSerialPort(pair.a, { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 });
    await new Promise<void>((r) => again.close(() => r()));
  });

  it('plain errors for a missing port and for a port the daemon holds', async () => {
    await expect(probeSerial({ port: '/dev/serial/by-id/usb-nothing', baudRate: 9600 }).next()).rejects.toMatchObject({
      code: 'SERIAL_NOT_FOUND',
      message: 'serial port /dev/serial/by-id/usb-nothing not found (is the adapter plugged in?)',
    });
    pair = await createPtyPair();
    const daemon = await openSerialPort(pair.a, { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 });
    try {
      await expect(probeSerial({ port: pair.a, baudRate: 9600 }).next()).rejects.toMatchObject({
        code: 'SERIAL_BUSY',
        message: `serial port ${pair.a} is in use by another process (is the edge-gateway daemon running? stop it or pick another port)`,
      });
    } finally {
      await new Promise<void>((r) => daemon.close(() => r()));
    }
  });

  it('ends with SERIAL_UNPLUGGED when the adapter is pulled mid-probe, and stops on abort', async () => {
    pair = await createPtyPair();
    const probe = probeSerial({ port: pair.a, baudRate: 9600 });
    // Settle into a value now: the rejection arrives while unplug() is still being awaited.
    const pending = probe.next().then(
      () => null,
      (err: unknown) => err,
    );
    await new Promise((r) => setTimeout(r, 100));
    await pair.unplug();
    expect(await pending).toMatchObject({ code: 'SERIAL_UNPLUGGED' });

    await pair.replug();
    const ac = new AbortController();
    const p2 = probeSerial({ port: pair.a, baudRate: 9600, signal: ac.signal });
    const n = p2.next();
    setTimeout(() => ac.abort(), 100);
    expect((await n).done).toBe(true);
  });
});
