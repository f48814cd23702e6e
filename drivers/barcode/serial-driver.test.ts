import { describe, expect, it } from 'vitest';
import { capturingContext } from '../../test-rigs/serial/capture-context.js';
import type { PtyPair } from '../../test-rigs/serial/pty.js';
import { ptySessionPerTest } from '../../test-rigs/serial/pty-session.js';
import { waitUntil } from '../../test-rigs/serial/wait-until.js';
import type { PtyWriter } from '../../test-rigs/scanner-sim/pty-writer.js';
import { ean13, endlessLine, garbage, heldTicket, scanFrame } from '../../test-rigs/scanner-sim/scanner.js';
import type { Driver } from '../driver.js';
import { barcodeSerialDeviceSchema } from './schema.js';
import { createBarcodeSerialDriver } from './serial-driver.js';

const reopen = { initialDelayMs: 20, maxDelayMs: 200, watchIntervalMs: 50 };

describe('barcode-serial over a real pty', () => {
  const session = ptySessionPerTest();
  let pair: PtyPair;
  let writer: PtyWriter;
  let driver: Driver;

  it('emits scan events: prefixes stripped, AIM ids reported, repeats suppressed, bad EAN flagged, line noise dropped and counted', async () => {
    ({ pair, writer } = await session.open());
    const cfg = barcodeSerialDeviceSchema.parse({
      id: 'gate-n-entry',
      type: 'barcode-serial',
      port: { path: pair.a, baudRate: 115200, reopen },
      terminator: 'CRLF',
      stripPrefix: '\x02',
      site: 'P3',
      gate: 'north',
      lane: '1',
      direction: 'entry',
      validate: { checkDigit: 'gtin' },
      maxCodeLength: 256,
    });
    const ctx = capturingContext('gate-n-entry');
    driver = session.track(createBarcodeSerialDriver(cfg, ctx));
    await driver.start();

    const good = ean13('590123412345');
    await writer.write(heldTicket({ code: good, aim: ']E0', prefix: '\x02' }, 5));
    await writer.write(scanFrame({ code: '5901234123458', aim: ']E0' })); // wrong check digit
    await writer.write(garbage(40, 3));
    await writer.write('\r\n');
    await writer.write(endlessLine(5000));
    await writer.write('\r\n');
    await writer.write(scanFrame({ code: '036000291452', aim: ']E0' })); // a real UPC-A: 12 digits pass gtin
    await waitUntil(() => ctx.readings.length === 3, 5_000, 'three scan events');

    const [first, bad, upc] = ctx.readings;
    expect(first).toMatchObject({
      point: 'scan',
      value: good,
      kind: 'event',
      quality: 'good',
      attrs: { site: 'P3', gate: 'north', lane: '1', direction: 'entry', symbology: 'ean13', aimId: ']E0', valid: true },
    });
    expect(bad?.attrs).toMatchObject({ valid: false, invalidReason: 'gtin: bad check digit' });
    expect(upc).toMatchObject({ value: '036000291452', attrs: { valid: true } });
    // The 40 bytes of noise had a terminator after them but no code in them: dropped, counted, not an event.
    expect(driver.status().counters).toMatchObject({
      scans: 3,
      duplicatesSuppressed: 4,
      overlongCodes: 1,
      invalidScans: 1,
      fragmentsDiscarded: 1,
      bytesDiscarded: 40 + 5000,
    });
  });

  it('keeps scanning across an unplug/replug of the adapter', async () => {
    ({ pair, writer } = await session.open());
    const cfg = barcodeSerialDeviceSchema.parse({ id: 'exit-1', type: 'barcode-serial', port: { path: pair.a, reopen }, terminator: 'CR' });
    const ctx = capturingContext('exit-1');
    driver = session.track(createBarcodeSerialDriver(cfg, ctx));
    await driver.start();
    await writer.write(scanFrame({ code: 'T0001', terminator: '\r' }));
    await waitUntil(() => ctx.readings.length === 1, 5_000, 'first scan');

    await writer.close();
    await pair.unplug();
    await waitUntil(() => driver!.status().state === 'down', 5_000, 'down after unplug');
    await pair.replug();
    await waitUntil(() => driver!.status().state === 'ok', 5_000, 'ok after replug');
    // CRLF from a mis-set scanner: the stray LF must not become part of the code.
    await writer.write(scanFrame({ code: 'T0002', terminator: '\r\n' }));
    await waitUntil(() => ctx.readings.length === 2, 5_000, 'scan after replug');
    expect(ctx.readings.map((r) => r.value)).toEqual(['T0001', 'T0002']);
  });
});

