import { mkdir, rm, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
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

function linePort(path: string, reopen: Record<string, number> = fastReopen): Harness {
  const h: Harness = { port: undefined as unknown as SerialLinePort, lines: [], closed: [], overlong: 0 };
  h.port = new SerialLinePort({
    port: serialPortSchema.parse({ path, baudRate: 9600, reopen }),
    ending: Buffer.from('\n'),
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
    expect(h.closed[0]?.code).toBe('SERIAL_UNPLUGGED');
    // While unplugged every retry fails with "not found".
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
    await waitUntil(() => h.port.counters.openRetries >= 1, 5_000, 'a second attempt');
    // Retrying a missing port is one problem, not one error per attempt.
    expect(h.port.counters.errors).toBe(1);
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

  /** A backoff so slow that only the directory watch can explain a reopen within the test's wait. */
  const slowBackoff = { initialDelayMs: 30_000, maxDelayMs: 60_000, watchIntervalMs: 50 };

  it('reopens as soon as the by-id link reappears, not when a long backoff runs out', async () => {
    pair = await createPtyPair();
    const h = linePort(pair.a, slowBackoff);
    stops.push(() => h.port.stop());
    h.port.start();
    await h.port.settled();
    await pair.unplug();
    await waitUntil(() => !h.port.isOpen, 5_000, 'port to notice the unplug');
    await pair.replug();
    // The next backoff retry is >= 24 s away: opening within 5 s is the inotify watch.
    await waitUntil(() => h.port.isOpen, 5_000, 'reopen right after the replug');
    writer = new PtyWriter(pair.b);
    await writer.write('after replug\n');
    await waitUntil(() => h.lines.includes('after replug'), 5_000, 'line after replug');
    expect(h.port.counters).toMatchObject({ unplugs: 1, reopens: 1, errors: 0 });
  });

  it('reopens at once even when the whole by-id directory vanished with the adapter and comes back', async () => {
    pair = await createPtyPair();
    const { a: node } = await pair.devices();
    const byId = join(dirname(pair.a), 'serial', 'by-id');
    const link = join(byId, 'usb-Scanner_1234-if00');
    await mkdir(byId, { recursive: true });
    await symlink(node, link);
    const h = linePort(link, slowBackoff);
    stops.push(() => h.port.stop());
    h.port.start();
    await h.port.settled();
    expect(h.port.isOpen).toBe(true);
    // udev removes /dev/serial/by-id itself when the last adapter goes.
    await rm(join(dirname(pair.a), 'serial'), { recursive: true });
    await waitUntil(() => !h.port.isOpen, 5_000, 'path watcher to close the port');
    await mkdir(byId, { recursive: true });
    await symlink(node, link);
    await waitUntil(() => h.port.isOpen, 5_000, 'reopen when by-id and the link are back');
  });

  it('does not count every failed retry while unplugged as a device error', async () => {
    pair = await createPtyPair();
    const h = linePort(pair.a);
    stops.push(() => h.port.stop());
    h.port.start();
    await h.port.settled();
    await pair.unplug();
    await waitUntil(() => h.closed.filter((e) => e.code === 'SERIAL_NOT_FOUND').length >= 5, 5_000, 'five failed retries');
    expect(h.port.counters.errors).toBe(0);
    expect(h.port.counters.openRetries).toBeGreaterThanOrEqual(5);
  });
});
