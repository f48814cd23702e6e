/**
 * Linux key codes (include/uapi/linux/input-event-codes.h) to characters on a US layout, the
 * layout keyboard-wedge scanners are shipped with. [unshifted, shifted].
 */
export const KEY = {
  ESC: 1,
  BACKSPACE: 14,
  TAB: 15,
  ENTER: 28,
  LEFTCTRL: 29,
  LEFTSHIFT: 42,
  RIGHTSHIFT: 54,
  LEFTALT: 56,
  CAPSLOCK: 58,
  KPENTER: 96,
  RIGHTCTRL: 97,
  RIGHTALT: 100,
} as const;

export const US_KEYMAP: ReadonlyMap<number, readonly [string, string]> = new Map<number, readonly [string, string]>([
  [2, ['1', '!']],
  [3, ['2', '@']],
  [4, ['3', '#']],
  [5, ['4', '$']],
  [6, ['5', '%']],
  [7, ['6', '^']],
  [8, ['7', '&']],
  [9, ['8', '*']],
  [10, ['9', '(']],
  [11, ['0', ')']],
  [12, ['-', '_']],
  [13, ['=', '+']],
  [16, ['q', 'Q']],
  [17, ['w', 'W']],
  [18, ['e', 'E']],
  [19, ['r', 'R']],
  [20, ['t', 'T']],
  [21, ['y', 'Y']],
  [22, ['u', 'U']],
  [23, ['i', 'I']],
  [24, ['o', 'O']],
  [25, ['p', 'P']],
  [26, ['[', '{']],
  [27, [']', '}']],
  [30, ['a', 'A']],
  [31, ['s', 'S']],
  [32, ['d', 'D']],
  [33, ['f', 'F']],
  [34, ['g', 'G']],
  [35, ['h', 'H']],
  [36, ['j', 'J']],
  [37, ['k', 'K']],
  [38, ['l', 'L']],
  [39, [';', ':']],
  [40, ["'", '"']],
  [41, ['`', '~']],
  [43, ['\\', '|']],
  [44, ['z', 'Z']],
  [45, ['x', 'X']],
  [46, ['c', 'C']],
  [47, ['v', 'V']],
  [48, ['b', 'B']],
  [49, ['n', 'N']],
  [50, ['m', 'M']],
  [51, [',', '<']],
  [52, ['.', '>']],
  [53, ['/', '?']],
  [57, [' ', ' ']],
  // Keypad: scanners set to "keypad emulation" send digits here (num lock is assumed on).
  [55, ['*', '*']],
  [71, ['7', '7']],
  [72, ['8', '8']],
  [73, ['9', '9']],
  [74, ['-', '-']],
  [75, ['4', '4']],
  [76, ['5', '5']],
  [77, ['6', '6']],
  [78, ['+', '+']],
  [79, ['1', '1']],
  [80, ['2', '2']],
  [81, ['3', '3']],
  [82, ['0', '0']],
  [83, ['.', '.']],
  [98, ['/', '/']],
]);

/** Keypad digit key codes, for Alt+keypad character entry (how scanners type GS, 0x1D). */
export const KEYPAD_DIGIT: ReadonlyMap<number, number> = new Map([
  [82, 0],
  [79, 1],
  [80, 2],
  [81, 3],
  [75, 4],
  [76, 5],
  [77, 6],
  [71, 7],
  [72, 8],
  [73, 9],
]);

/** Inverse map for rigs: character -> [code, needs shift]. Prefers the main block over keypad. */
export function usKeyFor(ch: string): { code: number; shift: boolean } | undefined {
  for (const [code, [plain, shifted]] of US_KEYMAP) {
    if (code >= 55 && code !== 57) continue;
    if (plain === ch) return { code, shift: false };
    if (shifted === ch) return { code, shift: true };
  }
  return undefined;
}
