import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { altKeypad, encodeEvents, scanBytes, typeText, EV_KEY } from '../../../test-rigs/evdev/input-events.js';
import { hostLayout, InputEventReader, type EventLayout } from './input-event.js';
import { KeyDecoder } from './key-decoder.js';
import { KEY } from './keymap.js';

function decode(bytes: Buffer[], layout: EventLayout, opts: Partial<ConstructorParameters<typeof KeyDecoder>[0]> = {}): string[] {
  const reader = new InputEventReader(layout);
  const keys = new KeyDecoder({ maxCodeLength: 256, autorepeat: 'ignore', ...opts });
  const out: string[] = [];
  for (const b of bytes)
    for (const ev of reader.push(b)) {
      const r = keys.feed(ev);
      if (r) out.push(r.kind === 'code' ? r.text : '<overlong>');
    }
  return out;
}

const PRINTABLE = ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~';

describe('evdev decoding', () => {
  it('picks the record size from the process architecture', () => {
    expect(hostLayout('x64')).toBe('64bit');
    expect(hostLayout('arm64')).toBe('64bit');
    expect(hostLayout('arm')).toBe('32bit');
  });

  for (const layout of ['64bit', '32bit'] as const) {
    it(`decodes every printable US character with shift (${layout})`, () => {
      expect(decode([scanBytes(PRINTABLE, layout)], layout)).toEqual([PRINTABLE]);
    });

    it(`reassembles records split anywhere across reads (${layout})`, () => {
      fc.assert(
        fc.property(
          fc.array(fc.string({ unit: fc.constantFrom(...PRINTABLE), minLength: 1, maxLength: 30 }), { minLength: 1, maxLength: 5 }),
          fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 20 }),
          (codes, sizes) => {
            const bytes = Buffer.concat(codes.map((c) => scanBytes(c, layout)));
            const chunks: Buffer[] = [];
            for (let off = 0, i = 0; off < bytes.length; i++) {
              const n = sizes[i % sizes.length]!;
              chunks.push(bytes.subarray(off, off + n));
              off += n;
            }
            expect(decode(chunks, layout)).toEqual(codes);
          },
        ),
        { numRuns: 200 },
      );
    });
  }

  it('ignores autorepeat by default and types it when asked', () => {
    const bytes = encodeEvents(typeText('AB1', { repeats: 2 }), '64bit');
    expect(decode([bytes], '64bit')).toEqual(['AB1']);
    expect(decode([bytes], '64bit', { autorepeat: 'type' })).toEqual(['AAABBB111']);
  });

  it('ends codes on keypad Enter, handles caps lock, Ctrl+] and Alt+keypad as GS', () => {
    const ev = [
      ...typeText('01', { terminator: 'none' }),
      ...altKeypad(29),
      { type: EV_KEY, code: KEY.LEFTCTRL, value: 1 },
      ...typeText(']', { terminator: 'none' }),
      { type: EV_KEY, code: KEY.LEFTCTRL, value: 0 },
      { type: EV_KEY, code: KEY.CAPSLOCK, value: 1 },
      { type: EV_KEY, code: KEY.CAPSLOCK, value: 0 },
      ...typeText('aB', { terminator: 'kpenter' }),
    ];
    expect(decode([encodeEvents(ev, '32bit')], '32bit')).toEqual(['01\x1d\x1dAb']);
  });

  it('drops a code longer than maxCodeLength and recovers at the next Enter', () => {
    const bytes = Buffer.concat([scanBytes('x'.repeat(40), '64bit'), scanBytes('ok', '64bit')]);
    expect(decode([bytes], '64bit', { maxCodeLength: 16 })).toEqual(['<overlong>', 'ok']);
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.constantFrom('64bit' as const, '32bit' as const), (b, layout) => {
        const out = decode([Buffer.from(b)], layout, { maxCodeLength: 64 });
        for (const s of out) expect(s.length).toBeLessThanOrEqual(64 + '<overlong>'.length);
      }),
      { numRuns: 300 },
    );
  });
});
