import { describe, expect, it } from 'vitest';
import { capturingContext, type CapturingContext } from '../../test-rigs/serial/capture-context.js';
import type { PtyPair } from '../../test-rigs/serial/pty.js';
import { ptySessionPerTest } from '../../test-rigs/serial/pty-session.js';
import { waitUntil } from '../../test-rigs/serial/wait-until.js';
import type { PtyWriter } from '../../test-rigs/scanner-sim/pty-writer.js';
import { ean13, endlessLine, garbage, scanFrame } from '../../test-rigs/scanner-sim/scanner.js';
import type { Driver } from '../driver.js';
import { barcodeSerialDeviceSchema } from './schema.js';
import { createBarcodeSerialDriver } from './serial-driver.js';

/**
 * Issue #16: a foreign scanner as a parking technician meets it, over a real pty. Each input is
 * the one from the field report that broke the old driver.
 */
const reopen = { initialDelayMs: 20, maxDelayMs: 200, watchIntervalMs: 50 };
/** Longer than the default interCharTimeoutMs (300 ms): the technician's pause before the next scan. */
const PAUSE_MS = 700;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** 2 KB of line noise as a loose connector makes it: binary, a CR every 128 bytes, no CR at the end. */
function connectorNoise(): { bytes: Buffer; terminated: number; tail: number } {
  const bytes = garbage(2048, 16);
  let terminated = 0;
  for (let i = 127; i < 2048 - 10; i += 128) {
    bytes[i] = 0x0d;
    terminated++;
  }
  return { bytes, terminated, tail: 2048 - (terminated * 128 - 1) - 1 };
}

describe('barcode-serial in the field (issue #16, real pty)', () => {
  const session = ptySessionPerTest();
  let pair: PtyPair;
  let writer: PtyWriter;
  let driver: Driver;

  async function scanner(extra: Record<string, unknown>): Promise<{ ctx: CapturingContext; w: PtyWriter; d: Driver }> {
    ({ pair, writer } = await session.open());
    const cfg = barcodeSerialDeviceSchema.parse({ id: 'lane-1', type: 'barcode-serial', port: { path: pair.a, reopen }, ...extra });
    const ctx = capturingContext('lane-1');
    driver = session.track(createBarcodeSerialDriver(cfg, ctx));
    await driver.start();
    return { ctx, w: writer, d: driver };
  }

  it('a real scan after 2 KB of line noise and a pause arrives exact; the noise is counted, not sent', async () => {
    const { ctx, w, d } = await scanner({ terminator: 'CR', validate: { checkDigit: 'gtin' } });
    const noise = connectorNoise();
    expect(noise.terminated).toBe(15);
    await w.write(noise.bytes);
    await waitUntil(() => (d.status().counters.fragmentsDiscarded ?? 0) >= noise.terminated, 5_000, 'the 15 noise lines to be discarded');
    await sleep(PAUSE_MS);
    const ticket = ean13('400638133393');
    await w.write(scanFrame({ code: ticket, terminator: '\r' }));
    await waitUntil(() => ctx.readings.length >= 1, 5_000, 'the real scan');

    expect(ctx.readings.map((r) => [r.value, r.attrs?.valid])).toEqual([[ticket, true]]);
    // 15 terminated noise lines and the 10-byte tail cut off by the pause; every byte but the CRs.
    expect(d.status().counters).toMatchObject({ scans: 1, invalidScans: 0, fragmentsDiscarded: 16, bytesDiscarded: 2048 - 15 });
  });

  it('a 20 KB line without an ending does not eat the next real scan', async () => {
    const { ctx, w, d } = await scanner({ terminator: 'CR' });
    await w.write(endlessLine(20_000));
    await waitUntil(() => d.status().counters.overlongCodes === 1, 5_000, 'the overlong line to be counted');
    await sleep(PAUSE_MS);
    await w.write(scanFrame({ code: 'T0002', terminator: '\r' }));
    await waitUntil(() => ctx.readings.length >= 1, 5_000, 'the scan after the endless line');
    expect(ctx.readings.map((r) => r.value)).toEqual(['T0002']);
    expect(d.status().counters).toMatchObject({ overlongCodes: 1, bytesDiscarded: 20_000 });
  });

  it('takes CR, LF and CRLF by default: three scans stay three', async () => {
    const { ctx, w } = await scanner({});
    await w.write('TERM-LF-1\nTERM-LF-2\nTERM-CR-2\rTERM-CRLF-3\r\n');
    await waitUntil(() => ctx.readings.length >= 4, 5_000, 'four scans');
    expect(ctx.readings.map((r) => r.value)).toEqual(['TERM-LF-1', 'TERM-LF-2', 'TERM-CR-2', 'TERM-CRLF-3']);
  });

  it('warns at the first merged code when the configured terminator is not what the scanner sends', async () => {
    const { ctx, w, d } = await scanner({ terminator: 'CR' });
    await w.write('TERM-LF-1\nTERM-LF-2\nTERM-CR-2\r');
    await waitUntil(() => ctx.readings.length >= 1, 5_000, 'the merged scan');
    expect(d.status().counters).toMatchObject({ mixedEndingCodes: 1 });
    const warning = ctx.logs.find((l) => l.code === 'MIXED_LINE_ENDINGS');
    expect(warning).toMatchObject({ level: 40, terminator: 'CR' });
    expect(String(warning?.msg)).toMatch(/terminator is CR.*set terminator: any/);
    expect(d.status().lastError).toMatchObject({ code: 'MIXED_LINE_ENDINGS' });
  });

  it('applies the GTIN check digit only to EAN/UPC: QR and Code128 tickets are valid, a bad EAN is not', async () => {
    const { ctx, w } = await scanner({ validate: { checkDigit: 'gtin' } });
    // PtyWriter sends strings as latin1: the QR's unicode goes as the UTF-8 bytes a scanner sends.
    await w.write(Buffer.from(scanFrame({ aim: ']Q1', code: 'https://p.example/t/42?ü=1', terminator: '\r' }), 'utf8'));
    await w.write(scanFrame({ aim: ']C0', code: 'TICKET-0042', terminator: '\r' }));
    await w.write(scanFrame({ aim: ']E0', code: '4006381333932', terminator: '\r' }));
    await w.write(scanFrame({ code: 'T0001', terminator: '\r' })); // no AIM id, not a GTIN
    await w.write(scanFrame({ code: '4006381333931', terminator: '\r' })); // no AIM id, looks like a GTIN: checked
    await waitUntil(() => ctx.readings.length >= 5, 5_000, 'five scans');
    expect(ctx.readings.map((r) => [r.value, r.attrs?.symbology, r.attrs?.valid, r.attrs?.invalidReason])).toEqual([
      ['https://p.example/t/42?ü=1', 'qr', true, undefined],
      ['TICKET-0042', 'code128', true, undefined],
      ['4006381333932', 'ean13', false, 'gtin: bad check digit'],
      ['T0001', undefined, true, undefined],
      ['4006381333931', undefined, true, undefined],
    ]);
  });

  it('strips the AIM id before anything else and keeps the spaces of the payload unless trim is set', async () => {
    const { ctx, w } = await scanner({});
    await w.write(scanFrame({ aim: ']Q1', code: ' spaced payload ', terminator: '\r' }));
    await waitUntil(() => ctx.readings.length >= 1, 5_000, 'the QR scan');
    expect(ctx.readings[0]).toMatchObject({ value: ' spaced payload ', attrs: { symbology: 'qr', aimId: ']Q1' } });
  });

  it('trims only when the config asks, after the AIM id is off', async () => {
    const { ctx, w } = await scanner({ trim: true });
    await w.write(scanFrame({ aim: ']Q1', code: ' spaced payload ', terminator: '\r' }));
    await waitUntil(() => ctx.readings.length >= 1, 5_000, 'the QR scan');
    expect(ctx.readings[0]).toMatchObject({ value: 'spaced payload', attrs: { symbology: 'qr' } });
  });
});
