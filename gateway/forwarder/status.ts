import type { WireIdentity } from './identity.js';

/**
 * The retained status message (`<prefix>/<gateway>/status`, docs/payload.md "Status"). Before
 * status v1 it was the bare bytes `online`/`offline`; now it says why, when, which process and
 * which outbox, so a Last Will (`lwt`: the broker lost the connection) is told from a clean stop
 * (`stop`), and a link drop (same bootId when it comes back) from a restart (new bootId).
 */
export type StatusReason = 'connected' | 'stop' | 'lwt';

export interface StatusMessage {
  v: 1;
  gateway: string;
  state: 'online' | 'offline';
  reason: StatusReason;
  /** When the gateway wrote this. For `lwt`: when the will was registered (at connect), not when the link died. */
  ts: number;
  bootId: string;
  startedAt: number;
  version: WireIdentity['version'];
  outbox: { id: string };
  site?: WireIdentity['site'];
}

export function statusMessage(gateway: string, identity: WireIdentity, outboxId: string, reason: StatusReason, ts: number): StatusMessage {
  return {
    v: 1,
    gateway,
    state: reason === 'connected' ? 'online' : 'offline',
    reason,
    ts,
    bootId: identity.bootId,
    startedAt: identity.startedAt,
    version: identity.version,
    outbox: { id: outboxId },
    ...(identity.site ? { site: identity.site } : {}),
  };
}

export function statusPayload(gateway: string, identity: WireIdentity, outboxId: string, reason: StatusReason, ts = Date.now()): Buffer {
  return Buffer.from(JSON.stringify(statusMessage(gateway, identity, outboxId, reason, ts)));
}
