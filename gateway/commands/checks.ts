import type { WritablePoint, WriteRequest } from '../../drivers/writable-point.js';
import type { Command } from './command-message.js';
import { checkSignature, type TrustedKey } from './signature.js';

/**
 * The gate every command passes before anything is recorded as accepted: declared, well-formed
 * for its point, signed when keys are set, fresh by a clock that can be trusted. Pure: the
 * runner owns the journal, the rate limits and the device.
 */
export interface CheckContext {
  gatewayId: string;
  now: number;
  clockSynced: boolean;
  keys: readonly TrustedKey[];
  /** How far ahead an expiry may lie; the journal keeps ids at least this long. */
  maxExpiryAheadMs: number;
}

export type CheckVerdict =
  | { ok: true; request: WriteRequest; signedBy: string | null }
  | { ok: false; outcome: 'rejected' | 'expired'; reason: string };

export function checkCommand(c: Command, point: WritablePoint | undefined, ctx: CheckContext): CheckVerdict {
  if (point === undefined) return reject(`not-declared: device "${c.device}" has no writable point "${c.point}" (only points declared under writes: in its device file can be written)`);
  if (!point.actions.includes(c.request.action)) return reject(`action-not-allowed: point "${c.point}" takes ${point.actions.join(' or ')}, not ${c.request.action}`);
  const request = requestFor(c.request, point);
  if (typeof request === 'string') return reject(request);

  let signedBy: string | null = null;
  // A technician's write comes over the actuate socket, whose group membership is its credential
  // (SECURITY.md); signatures guard the path through the broker.
  if (ctx.keys.length > 0 && point.policy.requireSignature && c.source !== 'local') {
    const sig = checkSignature(ctx.gatewayId, c, ctx.keys);
    if (!sig.ok) return reject(sig.reason);
    signedBy = sig.keyId;
  }
  if (!ctx.clockSynced && !point.policy.allowUnsyncedClock) {
    return reject('clock-unsynced: the gateway clock is not synchronised, so expiry cannot be trusted (the device file may allow it with allowUnsyncedClock)');
  }
  if (c.expiresAt <= ctx.now) return { ok: false, outcome: 'expired', reason: `expired: expiresAt ${new Date(c.expiresAt).toISOString()} is ${ctx.now - c.expiresAt} ms in the past` };
  if (c.expiresAt - ctx.now > ctx.maxExpiryAheadMs) {
    return reject(`expiry-too-far: expiresAt is ${c.expiresAt - ctx.now} ms ahead; at most ${ctx.maxExpiryAheadMs} ms (commands.maxExpiryAhead) is accepted`);
  }
  return { ok: true, request, signedBy };
}

/** The request with defaults filled in, or why the value does not fit the point's policy. */
function requestFor(r: Command['request'], p: WritablePoint): WriteRequest | string {
  if (r.action === 'pulse') {
    const pulse = p.pulse!;
    const ms = r.durationMs ?? pulse.defaultMs;
    if (ms < pulse.minMs || ms > pulse.maxMs) return `out-of-range: durationMs ${ms} is outside ${pulse.minMs}..${pulse.maxMs} for point "${p.policy.name}"`;
    return { action: 'pulse', durationMs: ms };
  }
  const v = r.value;
  if (typeof v !== p.valueType) return `wrong-type: point "${p.policy.name}" takes a ${p.valueType}, got ${typeof v}`;
  const { min, max, allowed } = p.policy;
  if (allowed !== undefined && !allowed.includes(v)) return `not-allowed: ${String(v)} is not one of ${JSON.stringify(allowed)} for point "${p.policy.name}"`;
  if (typeof v === 'number') {
    if (min !== undefined && v < min) return `out-of-range: ${v} is below min ${min} for point "${p.policy.name}"`;
    if (max !== undefined && v > max) return `out-of-range: ${v} is above max ${max} for point "${p.policy.name}"`;
  }
  return { action: 'write', value: v };
}

function reject(reason: string): CheckVerdict {
  return { ok: false, outcome: 'rejected', reason };
}
