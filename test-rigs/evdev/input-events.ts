/**
 * Real `struct input_event` byte records, as a USB keyboard-wedge scanner produces them through
 * the kernel: per character an optional EV_MSC scan code, EV_KEY down, EV_SYN, EV_KEY up, EV_SYN,
 * with left shift wrapped around shifted characters, and Enter at the end.
 */
import { usKeyFor, KEY } from '../../drivers/barcode/evdev/keymap.js';
import type { EventLayout } from '../../drivers/barcode/evdev/input-event.js';

export const EV_SYN = 0;
export const EV_KEY = 1;
export const EV_MSC = 4;
const MSC_SCAN = 4;

export interface RawEvent {
  type: number;
  code: number;
  value: number;
}

export function encodeEvents(events: RawEvent[], layout: EventLayout, startMs = Date.now(), stepUs = 500): Buffer {
  const size = layout === '64bit' ? 24 : 16;
  const buf = Buffer.alloc(events.length * size);
  events.forEach((e, i) => {
    const off = i * size;
    const us = startMs * 1000 + i * stepUs;
    const sec = Math.floor(us / 1e6);
    const usec = us % 1e6;
    if (layout === '64bit') {
      buf.writeBigInt64LE(BigInt(sec), off);
      buf.writeBigInt64LE(BigInt(usec), off + 8);
      buf.writeUInt16LE(e.type, off + 16);
      buf.writeUInt16LE(e.code, off + 18);
      buf.writeInt32LE(e.value, off + 20);
    } else {
      buf.writeInt32LE(sec, off);
      buf.writeInt32LE(usec, off + 4);
      buf.writeUInt16LE(e.type, off + 8);
      buf.writeUInt16LE(e.code, off + 10);
      buf.writeInt32LE(e.value, off + 12);
    }
  });
  return buf;
}

function tap(code: number, out: RawEvent[], repeats = 0): void {
  out.push({ type: EV_MSC, code: MSC_SCAN, value: 0x70000 + code });
  out.push({ type: EV_KEY, code, value: 1 }, { type: EV_SYN, code: 0, value: 0 });
  for (let i = 0; i < repeats; i++) out.push({ type: EV_KEY, code, value: 2 }, { type: EV_SYN, code: 0, value: 0 });
  out.push({ type: EV_KEY, code, value: 0 }, { type: EV_SYN, code: 0, value: 0 });
}

export interface TypeOptions {
  terminator?: 'enter' | 'kpenter' | 'none';
  /** Autorepeat events injected after each key-down (a scanner's USB hiccup). */
  repeats?: number;
}

/** Key events typing `text` on a US layout. Throws for characters a US keyboard cannot type. */
export function typeText(text: string, opts: TypeOptions = {}): RawEvent[] {
  const out: RawEvent[] = [];
  for (const ch of text) {
    const k = usKeyFor(ch);
    if (!k) throw new Error(`evdev rig: no US key for ${JSON.stringify(ch)}`);
    if (k.shift) out.push({ type: EV_KEY, code: KEY.LEFTSHIFT, value: 1 }, { type: EV_SYN, code: 0, value: 0 });
    tap(k.code, out, opts.repeats ?? 0);
    if (k.shift) out.push({ type: EV_KEY, code: KEY.LEFTSHIFT, value: 0 }, { type: EV_SYN, code: 0, value: 0 });
  }
  const term = opts.terminator ?? 'enter';
  if (term !== 'none') tap(term === 'enter' ? KEY.ENTER : KEY.KPENTER, out);
  return out;
}

/** Alt + keypad digits: how scanners type a control character such as GS (29). */
export function altKeypad(charCode: number): RawEvent[] {
  const kp: Record<string, number> = { '0': 82, '1': 79, '2': 80, '3': 81, '4': 75, '5': 76, '6': 77, '7': 71, '8': 72, '9': 73 };
  const out: RawEvent[] = [{ type: EV_KEY, code: KEY.LEFTALT, value: 1 }];
  for (const d of String(charCode).padStart(3, '0')) tap(kp[d]!, out);
  out.push({ type: EV_KEY, code: KEY.LEFTALT, value: 0 }, { type: EV_SYN, code: 0, value: 0 });
  return out;
}

/** Bytes of a whole scan: `text` then the terminator. */
export function scanBytes(text: string, layout: EventLayout, opts: TypeOptions = {}): Buffer {
  return encodeEvents(typeText(text, opts), layout);
}
