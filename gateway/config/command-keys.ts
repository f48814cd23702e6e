import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { loadPublicKey, type TrustedKey } from '../commands/signature.js';

/**
 * Read and parse the command centre's public keys once, at config load, so a missing or wrong
 * key is a config problem (check-config shows it) and never a surprise at the first command.
 */
export function readCommandKeys(dir: string, keys: readonly { id: string; file: string }[], problem: (index: number, message: string) => void): TrustedKey[] {
  const out: TrustedKey[] = [];
  keys.forEach((k, i) => {
    const path = isAbsolute(k.file) ? k.file : resolve(dir, k.file);
    let pem: string;
    try {
      pem = readFileSync(path, 'utf8');
    } catch (err) {
      problem(i, `cannot read public key file ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      return;
    }
    try {
      out.push(loadPublicKey(k.id, pem));
    } catch (err) {
      problem(i, `${path} is not a PEM Ed25519 public key: ${(err as Error).message}`);
    }
  });
  return out;
}
