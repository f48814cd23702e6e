import { isAbsolute, resolve } from 'node:path';
import { loadPublicKey, type TrustedKey } from '../commands/signature.js';
import { readRegularFile } from './read-file.js';

/** A PEM public key is a few hundred bytes; anything much larger is not one. */
const MAX_KEY_FILE_BYTES = 16 * 1024;

/**
 * Read and parse the command centre's public keys once, at config load, so a missing or wrong
 * key is a config problem (check-config shows it) and never a surprise at the first command.
 */
export function readCommandKeys(dir: string, keys: readonly { id: string; file: string }[], problem: (index: number, message: string) => void): TrustedKey[] {
  const out: TrustedKey[] = [];
  keys.forEach((k, i) => {
    const path = isAbsolute(k.file) ? k.file : resolve(dir, k.file);
    const read = readRegularFile(path, MAX_KEY_FILE_BYTES);
    if (!read.ok) {
      problem(i, `public key file ${path}: ${read.message}`);
      return;
    }
    try {
      out.push(loadPublicKey(k.id, read.text));
    } catch (err) {
      problem(i, `${path} is not a PEM Ed25519 public key: ${(err as Error).message}`);
    }
  });
  return out;
}
