import { isAbsolute, resolve } from 'node:path';
import { PrivateKeyFile, UnreadSecretFile } from '../../drivers/kit/secret-file.js';
import { Secret } from '../../drivers/kit/secret.js';
import { formatBytes, readRegularFile } from './read-file.js';

/**
 * The one way a secret file is read, for every field a schema marks with `secretFileSchema`
 * (MQTT, camera, OPC-UA passwords). A secret file is hostile input like any config file: only a
 * regular file is opened (a FIFO would block the daemon's reload), without blocking, and at most
 * a few KiB are read. The secret is the first line without its line end, so `echo pw > file` and
 * editors that add a final newline both work; an empty first line is an error, never an empty
 * password. The file is read once, when the config loads (a rotated password takes a reload), so
 * a missing file is a config error and not a runtime one. Relative paths mean relative to the
 * config directory, passed in: the process's working directory is never touched.
 */

/** A password file holds one line; anything near this size is the wrong file. */
export const MAX_SECRET_FILE_BYTES = 4 * 1024;
/** A PEM private key: an RSA 8192-bit key is about 6.5 KiB. */
export const MAX_PRIVATE_KEY_FILE_BYTES = 64 * 1024;

export type SecretFileRead =
  | { ok: true; secret: Secret; /** The warning when other users can read the file. */ exposed: string | null }
  | { ok: false; message: string; permissionDenied?: boolean };

export function readSecretFile(path: string): SecretFileRead {
  const read = readRegularFile(path, MAX_SECRET_FILE_BYTES);
  if (!read.ok) {
    const why = read.message.startsWith('too large')
      ? `too large: a secret file holds one line, the limit is ${formatBytes(MAX_SECRET_FILE_BYTES)} (is this the file you meant?)`
      : read.message;
    return { ok: false, message: `secret file ${path}: ${why}`, permissionDenied: read.permissionDenied };
  }
  const firstLine = read.text.split(/\r?\n/, 1)[0] ?? '';
  if (firstLine === '') return { ok: false, message: `secret file ${path} is empty (the secret is its first line)` };
  return { ok: true, secret: new Secret(firstLine), exposed: exposure(path, read.mode) };
}

/**
 * Checks a private key file as a secret file is checked, without keeping its content: the stack
 * that uses the key reads it by path when it connects.
 */
export function checkPrivateKeyFile(path: string): { ok: true; exposed: string | null } | { ok: false; message: string; permissionDenied?: boolean } {
  const read = readRegularFile(path, MAX_PRIVATE_KEY_FILE_BYTES);
  if (!read.ok) {
    const why = read.message.startsWith('too large') ? `too large: the limit for a private key file is ${formatBytes(MAX_PRIVATE_KEY_FILE_BYTES)} (is this the file you meant?)` : read.message;
    return { ok: false, message: `private key file ${path}: ${why}`, permissionDenied: read.permissionDenied };
  }
  return { ok: true, exposed: exposure(path, read.mode) };
}

function exposure(path: string, mode: number): string | null {
  return (mode & 0o007) === 0 ? null : `secret file ${path} is readable by other users: chmod 640 (owner root, group edge-gateway) or 600`;
}

export interface SecretFileNote {
  /** Key path in the validated config, which is also the key path in the file as written. */
  path: (string | number)[];
  message: string;
  permissionDenied?: boolean;
}

/**
 * Reads every secret file a validated config (gateway file or device) names, found by the
 * schema's mark, and puts the Secret in its place; checks every private key file it names and
 * puts it in place with its absolute path. Returns what could not be read (config errors) and the
 * files other users can read (warnings).
 */
export function readSecretFiles(config: object, dir: string): { problems: SecretFileNote[]; warnings: SecretFileNote[] } {
  const problems: SecretFileNote[] = [];
  const warnings: SecretFileNote[] = [];
  const visit = (node: Record<string, unknown> | unknown[], at: (string | number)[]): void => {
    for (const [key, value] of Object.entries(node)) {
      const path = [...at, Array.isArray(node) ? Number(key) : key];
      if (value instanceof UnreadSecretFile) {
        const read = readSecretFile(isAbsolute(value.path) ? value.path : resolve(dir, value.path));
        if (!read.ok) {
          problems.push({ path, message: read.message, permissionDenied: read.permissionDenied });
          continue;
        }
        (node as Record<string, unknown>)[key] = read.secret;
        if (read.exposed) warnings.push({ path, message: read.exposed });
      } else if (value instanceof PrivateKeyFile) {
        const abs = isAbsolute(value.path) ? value.path : resolve(dir, value.path);
        const check = checkPrivateKeyFile(abs);
        if (!check.ok) {
          problems.push({ path, message: check.message, permissionDenied: check.permissionDenied });
          continue;
        }
        (node as Record<string, unknown>)[key] = new PrivateKeyFile(abs);
        if (check.exposed) warnings.push({ path, message: check.exposed });
      } else if (Array.isArray(value) || (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype)) {
        visit(value as Record<string, unknown> | unknown[], path);
      }
    }
  };
  visit(config as Record<string, unknown>, []);
  return { problems, warnings };
}
