import { EV_KEY, type InputEvent } from './input-event.js';
import { KEY, KEYPAD_DIGIT, US_KEYMAP } from './keymap.js';

export interface KeyDecoderOptions {
  maxCodeLength: number;
  autorepeat: 'ignore' | 'type';
}

export type KeyDecodeResult = { kind: 'code'; text: string } | { kind: 'overlong' };

const PRESS = 1;
const REPEAT = 2;
const RELEASE = 0;

/**
 * Turns key events from a keyboard-wedge scanner into code strings: a US map with shift and caps
 * lock, Ctrl+letter and Alt+keypad for control characters (GS1 group separators), Enter or
 * keypad Enter ending a code. Input beyond maxCodeLength is dropped until the next Enter.
 */
export class KeyDecoder {
  private shiftL = false;
  private shiftR = false;
  private ctrl = 0;
  private alt = 0;
  private caps = false;
  private altDigits: number | null = null;
  private chars: string[] = [];
  private overflowed = false;

  constructor(private readonly opts: KeyDecoderOptions) {}

  reset(): void {
    this.shiftL = this.shiftR = this.caps = this.overflowed = false;
    this.ctrl = this.alt = 0;
    this.altDigits = null;
    this.chars = [];
  }

  feed(ev: InputEvent): KeyDecodeResult | null {
    if (ev.type !== EV_KEY) return null;
    const { code, value } = ev;
    if (code === KEY.LEFTSHIFT) {
      this.shiftL = value !== RELEASE;
      return null;
    }
    if (code === KEY.RIGHTSHIFT) {
      this.shiftR = value !== RELEASE;
      return null;
    }
    if (code === KEY.LEFTCTRL || code === KEY.RIGHTCTRL) {
      this.modifier('ctrl', code, value);
      return null;
    }
    if (code === KEY.LEFTALT || code === KEY.RIGHTALT) {
      this.modifier('alt', code, value);
      if (value === RELEASE && this.alt === 0 && this.altDigits !== null) {
        const ch = this.altDigits & 0xff;
        this.altDigits = null;
        this.append(String.fromCharCode(ch));
      }
      return null;
    }
    if (value === RELEASE) return null;
    if (value === REPEAT && this.opts.autorepeat === 'ignore') return null;
    if (value !== PRESS && value !== REPEAT) return null;

    if (code === KEY.CAPSLOCK) {
      if (value === PRESS) this.caps = !this.caps;
      return null;
    }
    if (code === KEY.ENTER || code === KEY.KPENTER) return this.finish();
    if (this.alt > 0) {
      const d = KEYPAD_DIGIT.get(code);
      if (d !== undefined) this.altDigits = ((this.altDigits ?? 0) * 10 + d) % 1000;
      return null;
    }
    const pair = US_KEYMAP.get(code);
    if (!pair) return null;
    if (this.ctrl > 0) {
      // Ctrl+A..Z -> 0x01..0x1A, Ctrl+] -> GS (0x1D): scanners' way of typing FNC1 separators.
      const base = pair[0];
      if (base >= 'a' && base <= 'z') this.append(String.fromCharCode(base.charCodeAt(0) - 96));
      else if (base === '[') this.append('\x1b');
      else if (base === '\\') this.append('\x1c');
      else if (base === ']') this.append('\x1d');
      return null;
    }
    const shift = this.shiftL || this.shiftR;
    const [plain, shifted] = pair;
    const isLetter = plain >= 'a' && plain <= 'z';
    this.append(isLetter && this.caps ? (shift ? plain : shifted) : shift ? shifted : plain);
    return null;
  }

  private modifier(which: 'ctrl' | 'alt', code: number, value: number): void {
    const bit = code === KEY.LEFTCTRL || code === KEY.LEFTALT ? 1 : 2;
    if (value === RELEASE) this[which] &= ~bit;
    else this[which] |= bit;
  }

  private append(ch: string): void {
    if (this.overflowed) return;
    if (this.chars.length >= this.opts.maxCodeLength) {
      this.overflowed = true;
      this.chars = [];
      return;
    }
    this.chars.push(ch);
  }

  private finish(): KeyDecodeResult {
    const result: KeyDecodeResult = this.overflowed ? { kind: 'overlong' } : { kind: 'code', text: this.chars.join('') };
    this.chars = [];
    this.overflowed = false;
    return result;
  }
}
