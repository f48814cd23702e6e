import { z } from 'zod';

/**
 * Sizes and durations are written by people over SSH: accept `512MB` or `7d` as well as plain
 * numbers (bytes / milliseconds), and turn them into numbers once, at load.
 */
const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 };

function withUnits(units: Record<string, number>, what: string, example: string) {
  return z.union([z.number().nonnegative(), z.string()]).transform((v, ctx) => {
    if (typeof v === 'number') return v;
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(v);
    const factor = m ? units[(m[2] || Object.keys(units)[0]!).toLowerCase()] : undefined;
    if (!m || factor === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a ${what} such as ${example} (units: ${Object.keys(units).join(', ')})` });
      return z.NEVER;
    }
    return Math.round(Number(m[1]) * factor);
  });
}

export const sizeSchema = withUnits(SIZE_UNITS, 'size', '512MB');
export const durationSchema = withUnits(DURATION_UNITS, 'duration', '7d or 250ms');
