import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { secretFileExposure, secretFromFileText } from './secret-file.js';

describe('secret file policy', () => {
  it('takes the first line without its line end', () => {
    expect(secretFromFileText('s3cret\n')).toBe('s3cret');
    expect(secretFromFileText('s3cret\r\nsecond line\n')).toBe('s3cret');
    expect(secretFromFileText('s3cret')).toBe('s3cret');
    expect(secretFromFileText('')).toBe('');
  });

  it('warns about a file other users can read, never about a private or missing one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'secret-'));
    try {
      const p = join(dir, 'pw');
      writeFileSync(p, 'x\n');
      chmodSync(p, 0o644);
      expect(secretFileExposure(p)).toBe(`secret file ${p} is readable by other users: chmod 640 (owner root, group edge-gateway) or 600`);
      chmodSync(p, 0o640);
      expect(secretFileExposure(p)).toBeNull();
      expect(secretFileExposure(join(dir, 'absent'))).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
