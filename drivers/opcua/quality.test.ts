import { describe, expect, it } from 'vitest';
import { qualityFromStatusCode } from './quality.js';

describe('qualityFromStatusCode', () => {
  it('maps the severity bits, ignoring sub-codes and info bits', () => {
    expect(qualityFromStatusCode(0x00000000)).toBe('good'); // Good
    expect(qualityFromStatusCode(0x00a20000)).toBe('good'); // GoodLocalOverride
    expect(qualityFromStatusCode(0x00000400)).toBe('good'); // Good with info bits (overflow flag)
    expect(qualityFromStatusCode(0x40900000)).toBe('uncertain'); // UncertainLastUsableValue
    expect(qualityFromStatusCode(0x408f0000)).toBe('uncertain'); // UncertainInitialValue
    expect(qualityFromStatusCode(0x808c0000)).toBe('bad'); // BadSensorFailure
    expect(qualityFromStatusCode(0x80340000)).toBe('bad'); // BadNodeIdUnknown
    expect(qualityFromStatusCode(0xc0000000)).toBe('bad'); // reserved severity 11 counts as bad
  });
});
