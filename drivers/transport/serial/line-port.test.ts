import { rm, symlink } from 'node:fs/promises';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createPtyPair, type PtyPair } from '../../../test-rigs/serial/pty.js';
import { waitUntil } from '../../../test-rigs/serial/wait-until.js';
import { PtyWriter } from '../../../test-rigs/scanner-sim/pty-writer.js';
import type { DeviceError } from '../../driver.js';
import { SerialLinePort } from './line-port.js';
import { openSerialPort } from './serial-opener.js';
import { serialPortSchema } from './schema.js';

const log = pino({ level: 'silent' });
const fastReopen = { initialDelayMs: 20, maxDelayMs: 200, watchIntervalMs: 50 };

interface Harness {
  port: SerialLinePort;
  lines: string[];
  closed: DeviceError[];
  overlong: number;
}

function linePort(path: string): Harness {
  const h: Harness = { port: undefined as unknown as SerialLinePort, lines: [], closed: [], overlong: 0 };
  h.port = new SerialLinePort({
    port: serialPortSchema.parse({ path, baudRate: 9600, reopen: fastReopen }),
    delimiter: Buffer.from('\n'),
    maxLineBytes: 64,
    log,
    onLine: (l) => h.lines.push(l.toString()),
    onOverlong: (n) => (h.overlong += n),
    onClosed: (e) => h.closed.push(e),
  });
  return h;
}

describe('SerialLinePort over a real pty', () => {
  let pair: PtyPair | null = null;
  let writer: PtyWriter | null = null;
  const stops: Array<() => Promise<void>> = [];

  afterEach(async () => {
    for (const s of stops.splice(0)) await s();
    await writer?.close();
    await pair?.close();
    pair = null;
  });

  it('reads lines, and reopens after the adapter is pulled and plugged back', async () => {
    pair = await createPtyPair();
    writer = new PtyWriter(pair.b);
    const h = linePort(pair.a);
    stops.push(() => h.port.stop());
    h.port.start();
    await h.port.settled();
    expect(h.port.isOpen).toBe(true);

    await writer.write('one\ntwo\n');
    await waitUntil(() => h.lines.length === 2, 5_000, 'two lines');

    await writer.close();
    await pair.unplug();
    await waitUntil(() => !h.port.isOpen, 5_000, 'port to notice the unplug');
    expect(h.port.counters.unplugs).toBe(1);
    expect(h.closed.at(-1)?.code).toBe('SERIAL_UNPLUGGED');
    // While unplugged every retry fails with "not found", and is counted.
    await waitUntil(() => h.closed.some((e) => e.code === 'SERIAL_NOT_FOUND'), 5_000, 'a failed reopen');

    await pair.replug();
    await waitUntil(() => h.port.isOpen, 5_000, 'reopen after replug');
    expect(h.port.counters.reopens).toBe(1);
    await writer.write('three\n');
    await waitUntil(() => h.lines.includes('three'), 5_000, 'line after replug');
    expect(h.lines).toEqual(['one', 'two', 'three']);
  });

  it('notices a vanished by-id link even though the fd stays open and no close event comes', async () => {
    pair = await createPtyPair();
    const { a: node } = await pair.devices();
    const h = linePort(pair.a);
    stops.push(() => h.port.stop());
    h.port.start();
    await h.port.settled();
    expect(h.port.resolvedPath).toBe(node);

    // socat keeps the pty alive: only the path watcher can see this.
    await rm(pair.a);
    await waitUntil(() => !h.port.isOpen, 5_000, 'path watcher to close the port');
    expect(h.port.counters.unplugs).toBe(1);

    await symlink(node, pair.a);
    await waitUntil(() => h.port.isOpen, 5_000, 'reopen when the link is back');
    writer = new PtyWriter(pair.b);
    await writer.write('back\n');
    await waitUntil(() => h.lines.includes('back'), 5_000, 'line after the link came back');
  });

  it('bounds an endless line and keeps going', async () => {
    pair = await createPtyPair();
    writer = new PtyWriter(pair.b);
    const h = linePort(pair.a);
    stops.push(() => h.port.stop());
    h.port.start();
    await h.port.settled();
    await writer.write('Y'.repeat(100_000));
    await writer.write('\nafter\n');
    await waitUntil(() => h.lines.includes('after'), 5_000, 'line after the endless one');
    expect(h.overlong).toBe(1);
    expect(h.lines).toEqual(['after']);
  });

  it('reports a missing port plainly and keeps retrying without throwing', async () => {
    const h = linePort('/tmp/edge-gateway-no-such-port');
    stops.push(() => h.port.stop());
    h.port.start();
    await h.port.settled();
    expect(h.port.isOpen).toBe(false);
    expect(h.port.lastError).toMatchObject({
      code: 'SERIAL_NOT_FOUND',
      message: 'serial port /tmp/edge-gateway-no-such-port not found (is the adapter plugged in?)',
    });
    await waitUntil(() => h.port.counters.errors >= 2, 5_000, 'a second attempt');
  });

  it('reports a port held by another process as busy', async () => {
    pair = await createPtyPair();
    const holder = await openSerialPort(pair.a, { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 });
    stops.push(() => new Promise<void>((r) => holder.close(() => r())));
    await expect(openSerialPort(pair.a, { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 })).rejects.toMatchObject({
      code: 'SERIAL_BUSY',
      message: expect.stringMatching(/in use by another process/),
    });
  });
});
