import { describe, expect, it } from 'vitest';
import { readingValueFromVariant } from './value.js';

describe('readingValueFromVariant', () => {
  it('passes scalars through', () => {
    expect(readingValueFromVariant(42.5, 'Double')).toBe(42.5);
    expect(readingValueFromVariant(true, 'Boolean')).toBe(true);
    expect(readingValueFromVariant('green', 'String')).toBe('green');
    expect(readingValueFromVariant(null, 'Null')).toBeNull();
    expect(readingValueFromVariant(undefined, 'Double')).toBeNull();
  });

  it('shows a Float (float32) as its shortest decimal, a Double as it is', () => {
    expect(readingValueFromVariant(Math.fround(3.14159), 'Float')).toBe(3.14159);
    expect(readingValueFromVariant(new Float32Array([3.14159, 0.1]), 'Float')).toBe('[3.14159,0.1]');
    expect(readingValueFromVariant(Math.fround(3.14159), 'Double')).toBe(3.141590118408203);
  });

  it('turns node-opcua [high, low] 64-bit pairs into exact numbers or strings', () => {
    expect(readingValueFromVariant([0, 7], 'UInt64')).toBe(7);
    expect(readingValueFromVariant([1, 0], 'UInt64')).toBe(4294967296);
    expect(readingValueFromVariant([0xffffffff, 0xffffffff], 'Int64')).toBe(-1);
    expect(readingValueFromVariant([0xffffffff, 0xffffffff], 'UInt64')).toBe('18446744073709551615');
    // A two-element UInt32 array is an array, not a 64-bit value.
    expect(readingValueFromVariant([1, 2], 'UInt32')).toBe('[1,2]');
  });

  it('makes dates epoch ms and structured values JSON', () => {
    expect(readingValueFromVariant(new Date(1_700_000_000_000), 'DateTime')).toBe(1_700_000_000_000);
    expect(readingValueFromVariant({ text: 'Phase 2', locale: 'en' }, 'LocalizedText')).toBe('Phase 2');
    expect(readingValueFromVariant(new Float32Array([1, 2.5]), 'Float')).toBe('[1,2.5]');
    expect(readingValueFromVariant(10n, 'Int64')).toBe(10);
  });
});
