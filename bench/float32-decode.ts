import { pathToFileURL } from 'node:url';
import { float32Shortener, shortestFloat32 } from '../drivers/kit/float32.js';

/**
 * What showing a float32 as its shortest decimal costs on the Modbus decode hot path: ns per
 * value for the raw read (readFloatBE) and for the read plus shortestFloat32, on sensor-like
 * values (a few significant digits) and on random float32 bit patterns (the worst case: 7-9
 * digits), and on a point that reads the same value every poll (the decoder's one-value memory).
 * `node dist/bench/float32-decode.js` prints the figures as JSON.
 */

export interface Float32DecodeFigures {
  values: 'sensor-like' | 'random-bits' | 'unchanged';
  rawNsPerValue: number;
  shortestNsPerValue: number;
  addedNsPerValue: number;
}

function buffers(kind: Float32DecodeFigures['values'], n: number): Buffer {
  const buf = Buffer.alloc(n * 4);
  for (let i = 0; i < n; i++) {
    if (kind === 'unchanged') buf.writeFloatBE(21.37, i * 4);
    else if (kind === 'sensor-like') buf.writeFloatBE(Math.round((Math.random() * 400 - 50) * 100) / 100, i * 4);
    else {
      let bits: number;
      do bits = (Math.random() * 2 ** 32) >>> 0;
      while (((bits >>> 23) & 0xff) === 0xff); // no NaN or infinity
      buf.writeUInt32BE(bits, i * 4);
    }
  }
  return buf;
}

function nsPerValue(buf: Buffer, read: (b: Buffer, off: number) => number, rounds: number): number {
  const n = buf.length / 4;
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) for (let i = 0; i < n; i++) sink += read(buf, i * 4);
  const ns = Number(process.hrtime.bigint() - t0);
  if (sink === 0.5) process.stdout.write(''); // keep the loop from being optimised away
  return ns / (n * rounds);
}

export function measureFloat32Decode(values: Float32DecodeFigures['values'], n = 10_000, rounds = 50): Float32DecodeFigures {
  const buf = buffers(values, n);
  const raw = (b: Buffer, off: number) => b.readFloatBE(off);
  // As a decoder runs it: one memory of the last value per point (here one point reads them all).
  const memo = float32Shortener();
  const shortest = values === 'unchanged' ? (b: Buffer, off: number) => memo(b.readFloatBE(off)) : (b: Buffer, off: number) => shortestFloat32(b.readFloatBE(off));
  // Warm both paths up before timing.
  nsPerValue(buf, raw, 5);
  nsPerValue(buf, shortest, 5);
  const rawNs = nsPerValue(buf, raw, rounds);
  const shortestNs = nsPerValue(buf, shortest, rounds);
  return { values, rawNsPerValue: rawNs, shortestNsPerValue: shortestNs, addedNsPerValue: shortestNs - rawNs };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const out = (['unchanged', 'sensor-like', 'random-bits'] as const).map((v) => measureFloat32Decode(v));
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}
