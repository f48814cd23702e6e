import { statSync } from 'node:fs';

/**
 * One policy for every `passwordFile` (MQTT, camera, OPC-UA): the secret is the file's first
 * line, without its line end, so `echo pw > file` and editors that add a final newline both
 * work; and a file other users can read is worth a warning, worded the same everywhere.
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
