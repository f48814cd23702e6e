import { createHmac, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';

const REDACTED = '[redacted]';
/** Per process, so a fingerprint says nothing outside it (no offline guessing from a dump). */
const FINGERPRINT_KEY = randomBytes(32);

/**
 * A credential that cannot leak by accident: JSON, string conversion and util.inspect (which pino
 * and console use) all print `[redacted]`. Only `reveal()` hands out the value, so every place
 * that uses the password is easy to find.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  /** Tells two secrets apart without revealing either (reload compares configs by it). */
  fingerprint(): string {
    return createHmac('sha256', FINGERPRINT_KEY).update(this.#value).digest('hex');
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
