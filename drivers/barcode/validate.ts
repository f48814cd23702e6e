import { z } from 'zod';

export const scanValidationSchema = z
  .object({
    /**
     * GS1 check digit, applied only to codes that are GTINs: with an AIM id, to ]E0 (EAN-13/UPC-A)
     * and ]E4 (EAN-8) only, so QR, Code128 and DataMatrix tickets are never judged by it; without
     * one, to all-digit codes of a GTIN length (8, 12, 13, 14). `gtin` accepts any of those
     * lengths; the others demand exactly one.
     */
    checkDigit: z
      .enum(['ean13', 'ean8', 'upca', 'gtin'])
      .optional()
      .describe('GS1 check digit for EAN/UPC codes only (AIM ]E0/]E4, or all-digit codes of 8/12/13/14 digits when no AIM id is sent); other symbologies are not checked'),
    minLength: z.number().int().min(0).max(10_000).optional().describe('Shortest valid code, in characters.'),
    maxLength: z.number().int().min(1).max(10_000).optional().describe('Longest valid code, in characters (>= minLength).'),
    /** Whole-code regex, e.g. "^T[0-9]{10}$" for the operator's ticket numbers. */
    pattern: z
      .string()
      .min(1)
      .max(1000)
      .refine(
        (p) => {
          try {
            new RegExp(p);
            return true;
          } catch {
            return false;
          }
        },
        { message: 'not a valid regular expression' },
      )
      .optional().describe('Whole-code JavaScript regex, e.g. "^T[0-9]{10}$" for the operator\'s ticket numbers.'),
  })
  .strict()
  .refine((v) => v.minLength === undefined || v.maxLength === undefined || v.minLength <= v.maxLength, {
    message: 'minLength must be <= maxLength',
  });

export type ScanValidationConfig = z.output<typeof scanValidationSchema>;

/** GS1 mod-10: weights 3,1,3,... from the rightmost data digit. */
export function gs1CheckDigitOk(digits: string): boolean {
  if (!/^\d{2,}$/.test(digits)) return false;
  let sum = 0;
  const data = digits.length - 1;
  for (let i = 0; i < data; i++) {
    const weight = (data - i) % 2 === 1 ? 3 : 1;
    sum += Number(digits[i]) * weight;
  }
  return (10 - (sum % 10)) % 10 === Number(digits[data]);
}

const LENGTHS: Record<'ean13' | 'ean8' | 'upca' | 'gtin', number[]> = { ean13: [13], ean8: [8], upca: [12], gtin: [8, 12, 13, 14] };

/** AIM ids whose data is a GTIN: ]E0 EAN-13 (UPC-A/UPC-E sent as 13 digits), ]E4 EAN-8. */
const GTIN_AIM_IDS = new Set([']E0', ']E4']);
const GTIN_LENGTHS = new Set(LENGTHS.gtin);

/**
 * Whether a check digit applies: the AIM id says which symbology was read; without one, only a
 * code that looks like a GTIN (all digits, GTIN length) is judged, so alphanumeric tickets pass.
 */
function carriesGtin(code: string, aimId: string | undefined): boolean {
  if (aimId !== undefined) return GTIN_AIM_IDS.has(aimId);
  return GTIN_LENGTHS.has(code.length) && /^\d+$/.test(code);
}

/** Returns why the code is invalid, or null. Compiled once per device. */
export function compileScanValidator(cfg: ScanValidationConfig | undefined): (code: string, aimId?: string) => string | null {
  if (!cfg) return () => null;
  const re = cfg.pattern !== undefined ? new RegExp(cfg.pattern) : null;
  return (code, aimId) => {
    const len = [...code].length;
    if (cfg.minLength !== undefined && len < cfg.minLength) return `too short (${len} < ${cfg.minLength})`;
    if (cfg.maxLength !== undefined && len > cfg.maxLength) return `too long (${len} > ${cfg.maxLength})`;
    if (cfg.checkDigit && carriesGtin(code, aimId)) {
      const kind = cfg.checkDigit;
      if (!/^\d+$/.test(code)) return `${kind}: not all digits`;
      if (!LENGTHS[kind].includes(code.length)) return `${kind}: wrong length ${code.length}`;
      if (!gs1CheckDigitOk(code)) return `${kind}: bad check digit`;
    }
    if (re && !re.test(code)) return `does not match pattern ${cfg.pattern}`;
    return null;
  };
}
