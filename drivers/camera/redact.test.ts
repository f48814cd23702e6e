import { describe, expect, it } from 'vitest';
import { makeRedactor } from './redact.js';

describe('makeRedactor', () => {
  const redact = makeRedactor('admin', 'p@ss word');
  it('removes the password, its URL encoding, the Basic blob and URL user-info', () => {
    const blob = Buffer.from('admin:p@ss word').toString('base64');
    const out = redact(`bad p@ss word / ${encodeURIComponent('p@ss word')} / Basic ${blob} / rtsp://admin:other@10.0.0.1/s`);
    expect(out).not.toContain('p@ss word');
    expect(out).not.toContain(blob);
    expect(out).not.toContain('admin:other');
    expect(out).toContain('rtsp://[redacted]@10.0.0.1/s');
  });
  it('leaves text alone when there is nothing secret in it', () => {
    expect(makeRedactor(undefined, undefined)('DESCRIBE returned 404 Not Found')).toBe('DESCRIBE returned 404 Not Found');
  });
});
