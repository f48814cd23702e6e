import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { Secret } from './secret.js';

/**
 * One policy for every `passwordFile` (MQTT, camera, OPC-UA): the file is read once, when the
 * config loads, so a missing or unreadable file is a config error and not a runtime one (a rotated
 * password takes `edge-gateway reload`); the secret is the file's first line, without its line
 * end, so `echo pw > file` and editors that add a final newline both work; and a file other users
 * can read is worth a warning, worded the same everywhere.
 */
export function secretFromFileText(text: string): string {
  return text.split(/\r?\n/, 1)[0] ?? '';
}

/** The warning for a secret file readable by other users, or null if it is not (or is missing). */
export function secretFileExposure(path: string): string | null {
  try {
    if ((statSync(path).mode & 0o007) === 0) return null;
  } catch {
    return null; // a missing file is reported where it is read
  }
  return `secret file ${path} is readable by other users: chmod 640 (owner root, group edge-gateway) or 600`;
}

/**
 * A device schema's `passwordFile` field: reads the file while the config is parsed (the loader
 * parses device files from the config directory, so relative paths are relative to it) and turns
 * it into a Secret, so the rest of the gateway can log the config object without leaking it.
 */
export const secretFileSchema = z
  .string()
  .min(1)
  .transform((path, ctx) => {
    try {
      const firstLine = secretFromFileText(readFileSync(path, 'utf8'));
      if (firstLine !== '') return new Secret(firstLine);
      ctx.addIssue({ code: 'custom', message: `password file ${path} is empty` });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EREAD';
      ctx.addIssue({ code: 'custom', message: `cannot read password file ${path} (${code})` });
    }
    return z.NEVER;
  });
