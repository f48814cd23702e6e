import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { secretFileSchema, UnreadSecretFile } from '../../drivers/kit/secret-file.js';
import { Secret } from '../../drivers/kit/secret.js';
import { checkPrivateKeyFile, MAX_SECRET_FILE_BYTES, readSecretFile, readSecretFiles } from './secret-files.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'secret-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function secretOf(path: string): string {
  const read = readSecretFile(path);
  if (!read.ok) throw new Error(read.message);
  return read.secret.reveal();
}

function failureOf(path: string): string {
  const read = readSecretFile(path);
  if (read.ok) throw new Error(`expected ${path} to be refused`);
  return read.message;
}

describe('secret file reader', () => {
  it('takes the first line without its line end', () => {
    const p = join(dir, 'pw');
    for (const [text, secret] of [['s3cret\n', 's3cret'], ['s3cret\r\nsecond line\n', 's3cret'], ['s3cret', 's3cret']]) {
      writeFileSync(p, text!);
      expect(secretOf(p)).toBe(secret);
    }
  });

  it('refuses an empty file, a missing one, a directory and an oversized one, naming the file', () => {
    const p = join(dir, 'pw');
    for (const empty of ['', '\n', '\r\nsecond line']) {
      writeFileSync(p, empty);
      expect(failureOf(p)).toBe(`secret file ${p} is empty (the secret is its first line)`);
    }
    expect(failureOf(join(dir, 'absent'))).toBe(`secret file ${join(dir, 'absent')}: file not found`);
    expect(failureOf(dir)).toContain(`secret file ${dir}: not a regular file`);
    writeFileSync(p, 'x'.repeat(MAX_SECRET_FILE_BYTES + 1));
    expect(failureOf(p)).toMatch(/^secret file .*pw: too large: a secret file holds one line, the limit is 4\.0 KiB/);
  });

  it('refuses a FIFO at once instead of blocking on it', () => {
    const fifo = join(dir, 'pw.fifo');
    execFileSync('mkfifo', [fifo]);
    // No writer ever opens the FIFO: a blocking open or read would hang here (and the test time out).
    expect(failureOf(fifo)).toBe(`secret file ${fifo}: not a regular file (a FIFO): only plain files are read as config`);
    expect(checkPrivateKeyFile(fifo)).toEqual({ ok: false, message: `private key file ${fifo}: not a regular file (a FIFO): only plain files are read as config` });
  }, 5_000);

  it('warns about a file other users can read, never about a private one', () => {
    const p = join(dir, 'pw');
    writeFileSync(p, 'x\n');
    chmodSync(p, 0o644);
    const read = readSecretFile(p);
    expect(read.ok && read.exposed).toBe(`secret file ${p} is readable by other users: chmod 640 (owner root, group edge-gateway) or 600`);
    chmodSync(p, 0o640);
    const quiet = readSecretFile(p);
    expect(quiet.ok && quiet.exposed).toBeNull();
  });
});

describe('secret files named by a validated config', () => {
  it('reads every field the schema marks, relative to the given directory, and puts the Secret in place', () => {
    writeFileSync(join(dir, 'a.pw'), 'alpha\n', { mode: 0o600 });
    writeFileSync(join(dir, 'b.pw'), 'beta\n', { mode: 0o644 });
    const config = {
      name: 'x',
      auth: { anyKeyName: secretFileSchema.parse('a.pw') },
      list: [{ other: secretFileSchema.parse(join(dir, 'b.pw')) }],
    };
    expect(() => config.auth.anyKeyName.reveal()).toThrow(/never read/);
    const { problems, warnings } = readSecretFiles(config, dir);
    expect(problems).toEqual([]);
    expect(config.auth.anyKeyName).toBeInstanceOf(Secret);
    expect(config.auth.anyKeyName).not.toBeInstanceOf(UnreadSecretFile);
    expect(config.auth.anyKeyName.reveal()).toBe('alpha');
    expect(config.list[0]!.other.reveal()).toBe('beta');
    expect(warnings).toEqual([{ path: ['list', 0, 'other'], message: expect.stringContaining(`secret file ${join(dir, 'b.pw')} is readable by other users`) }]);
  });

  it('reports a file it cannot read at its key path and leaves the field unread', () => {
    const config = { auth: { passwordFile: secretFileSchema.parse('missing.pw') } };
    expect(readSecretFiles(config, dir).problems).toEqual([{ path: ['auth', 'passwordFile'], message: `secret file ${join(dir, 'missing.pw')}: file not found` }]);
    expect(config.auth.passwordFile).toBeInstanceOf(UnreadSecretFile);
  });
});
