/**
 * A float32 read from a device, widened to a JS number, prints with float64's digits:
 * 3.14159 arrives as 3.141590118408203, which the device never meant. Drivers that decode a
 * float32 pass it through here once, at decode time, so the payload, `tail` and every consumer
 * see the shortest decimal that reads back as the same float32 (3.14159). Nothing is lost:
 * Math.fround(result) === the float32 the device sent.
 */
export function shortestFloat32(f: number): number {
  // Integers up to 2^24 already print exactly; NaN and infinities have nothing to shorten; a
  // value that is not a float32 is left alone.
  if (!Number.isFinite(f) || (Number.isInteger(f) && Math.abs(f) <= 0x1000000) || Math.fround(f) !== f) return f;
  // Fewer digits never round-trip when more do not, so the shortest precision is found by a
  // binary search over 1..9 (9 significant digits always round-trip a float32).
  let lo = 1;
  let hi = 9;
  let best = Number.NaN;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const candidate = Number(f.toPrecision(mid));
    if (Math.fround(candidate) === f) {
      hi = mid;
      best = candidate;
    } else lo = mid + 1;
  }
  return Number.isNaN(best) ? Number(f.toPrecision(9)) : best;
}

/**
 * shortestFloat32 with a memory of one value, for one decoder: a polled register mostly reads
 * the same bits as last time (a setpoint, a slow temperature), and then costs one comparison.
 */
export function float32Shortener(): (f: number) => number {
  let lastIn = Number.NaN;
  let lastOut = Number.NaN;
  return (f) => {
    if (f === lastIn && (f !== 0 || Object.is(f, lastIn))) return lastOut;
    lastIn = f;
    lastOut = shortestFloat32(f);
    return lastOut;
  };
}
