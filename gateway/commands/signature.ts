import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { Command } from './command-message.js';

/**
 * Ed25519 signatures from the command centre's key, so that a broker account alone cannot move
 * equipment. The signed bytes bind the command to this gateway (a command for gateway A cannot be
 * replayed to B) and to its id and expiry (the journal and the clock stop replays in time).
 *
 * The signed text is the UTF-8 of a JSON array, fields in this fixed order, absent ones as null:
 *   ["edge-gateway.command.v1", gateway, id, device, point, action, value, durationMs, expiresAt, issuedAt]
 * Numbers as JSON.stringify writes them (ECMAScript Number::toString). docs/commands.md has a
 * worked example; commands.test.ts checks it.
 */
export function signedBytes(gateway: string, c: Omit<Command, 'source' | 'sig' | 'keyId'>): Buffer {
  const value = c.request.action === 'write' ? c.request.value : null;
  const durationMs = c.request.action === 'pulse' ? (c.request.durationMs ?? null) : null;
  return Buffer.from(
    JSON.stringify(['edge-gateway.command.v1', gateway, c.id, c.device, c.point, c.request.action, value, durationMs, c.expiresAt, c.issuedAt ?? null]),
    'utf8',
  );
}

export interface TrustedKey {
  id: string;
  key: KeyObject;
}

/** Parse a PEM (SPKI) Ed25519 public key; throws with the reason when it is not one. */
export function loadPublicKey(id: string, pem: string): TrustedKey {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`key "${id}" is ${key.asymmetricKeyType ?? 'not an asymmetric key'}, not ed25519`);
  return { id, key };
}

export type SignatureVerdict = { ok: true; keyId: string } | { ok: false; reason: string };

/** Accept a command signed by any trusted key (or the one its keyId names). */
export function checkSignature(gateway: string, c: Command, keys: readonly TrustedKey[]): SignatureVerdict {
  if (c.sig === undefined) return { ok: false, reason: 'signature-missing: this point requires a signed command (sig)' };
  const sig = Buffer.from(c.sig, 'base64');
  if (sig.length !== 64) return { ok: false, reason: 'signature-invalid: sig is not a base64 Ed25519 signature (64 bytes)' };
  const candidates = c.keyId === undefined ? keys : keys.filter((k) => k.id === c.keyId);
  if (candidates.length === 0) return { ok: false, reason: `signature-invalid: no trusted key "${c.keyId}"` };
  const data = signedBytes(gateway, c);
  for (const k of candidates) {
    if (verify(null, data, k.key, sig)) return { ok: true, keyId: k.id };
  }
  return { ok: false, reason: 'signature-invalid: the signature does not match the command' };
}
