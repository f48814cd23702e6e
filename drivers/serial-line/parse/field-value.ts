import { z } from 'zod';
import { pointNameSchema } from '../../device-schema.js';

export const fieldTypeSchema = z.enum(['number', 'string', 'bool']);

/** What a text field becomes. `scale`/`offset` apply to numbers: value * scale + offset. */
export const fieldConversionSchema = {
  type: fieldTypeSchema.default('number').describe('What the text becomes: number (strict decimal), string, or bool (1/0, true/false, on/off, yes/no). Default number.'),
  unit: z.string().min(1).max(32).optional().describe('Unit sent with each reading. Free text.'),
  scale: z.number().finite().optional().describe('Numbers only: value = text × scale + offset. Default 1.'),
  offset: z.number().finite().optional().describe('Numbers only: added after scale. Default 0.'),
};

export interface FieldSpec {
  point: string;
  type: 'number' | 'string' | 'bool';
  unit?: string | undefined;
  scale?: number | undefined;
  offset?: number | undefined;
}

export { pointNameSchema };

export type FieldValue = { ok: true; value: number | string | boolean } | { ok: false; reason: string };

// Strict decimal: Number() alone would accept "", "0x1F", "1e400" (Infinity) and " ".
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const TRUE_WORDS = new Set(['1', 'true', 'on', 'yes', 'y', 't']);
const FALSE_WORDS = new Set(['0', 'false', 'off', 'no', 'n', 'f']);

export function convertField(raw: string, spec: FieldSpec): FieldValue {
  const text = raw.trim();
  switch (spec.type) {
    case 'string':
      return { ok: true, value: text };
    case 'bool': {
      const lower = text.toLowerCase();
      if (TRUE_WORDS.has(lower)) return { ok: true, value: true };
      if (FALSE_WORDS.has(lower)) return { ok: true, value: false };
      return { ok: false, reason: `not a boolean: ${JSON.stringify(text.slice(0, 40))}` };
    }
    case 'number': {
      if (!DECIMAL.test(text)) return { ok: false, reason: `not a number: ${JSON.stringify(text.slice(0, 40))}` };
      const n = Number(text) * (spec.scale ?? 1) + (spec.offset ?? 0);
      if (!Number.isFinite(n)) return { ok: false, reason: `number out of range: ${JSON.stringify(text.slice(0, 40))}` };
      return { ok: true, value: n };
    }
  }
}
