import { z } from 'zod';
import { Secret } from './secret.js';

/**
 * A config field that names a file holding a secret (a password file: MQTT, camera, OPC-UA).
 * The schema only marks it: validation turns the path into an `UnreadSecretFile`, and the config
 * loader (gateway/config/secret-files.ts) finds every such value by its class, reads the file with
 * the one hostile-input secret reader, relative to the config directory, and puts the `Secret` in
 * its place. So a schema never touches the file system while it parses, nothing depends on the
 * process's working directory, and every secret file gets the same checks and the same warning.
 */
export class UnreadSecretFile extends Secret {
  /** The path as written in the config (absolute, or relative to the config directory). */
  readonly path: string;

  constructor(path: string) {
    super('');
    this.path = path;
  }

  // A config that skipped the loader would otherwise log in with an empty password.
  override reveal(): never {
    throw new Error(`secret file ${this.path} was never read: configs come from loadConfig, which reads secret files`);
  }

  override fingerprint(): never {
    return this.reveal();
  }
}

/** A `passwordFile` field: a Secret once the config is loaded (read once, at load or reload). */
export const secretFileSchema = z
  .string()
  .min(1)
  .transform((path): Secret => new UnreadSecretFile(path));
