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

/**
 * A private key named in config (MQTT TLS client key, OPC-UA user or application key): as secret
 * as a password, so the loader finds it the same way and checks it the same way (a regular file
 * of bounded size, a warning when other users can read it), and resolves its path against the
 * config directory. Its content is read by the stack that uses it (TLS, node-opcua), which takes
 * a PEM file, not a line.
 */
export class PrivateKeyFile {
  constructor(
    /** Absolute once the config is loaded; as written (maybe relative) straight from the schema. */
    readonly path: string,
  ) {}

  /** Config diffs and status compare and show the path, as they did when it was a string. */
  toJSON(): string {
    return this.path;
  }
}

export const privateKeyFileSchema = z
  .string()
  .min(1)
  .transform((path) => new PrivateKeyFile(path));
