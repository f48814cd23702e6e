import type { ProbeName } from './schema.js';

/**
 * Stable failure codes a command centre can branch on. Network codes keep Node's names;
 * protocol codes say which protocol and what went wrong.
 */
export type ProbeFailureCode =
  | 'ETIMEDOUT'
  | 'ECONNREFUSED'
  | 'ECONNRESET'
  | 'EHOSTUNREACH'
  | 'ENOTFOUND'
  | 'ENETWORK'
  | 'AUTH_REQUIRED'
  | 'AUTH_REJECTED'
  /** Only Basic offered, and neither TLS nor allowBasicAuth makes sending it acceptable. */
  | 'AUTH_BASIC_REFUSED'
  | 'RTSP_STATUS'
  | 'RTSP_BAD_RESPONSE'
  | 'RTSP_NO_VIDEO'
  | 'ONVIF_HTTP_STATUS'
  | 'ONVIF_FAULT'
  | 'ONVIF_BAD_RESPONSE'
  | 'SNAPSHOT_HTTP_STATUS'
  | 'SNAPSHOT_NOT_IMAGE'
  | 'TLS_ERROR';

/** Thrown by a probe; `reached` says whether the camera answered at the network level at all. */
export class ProbeError extends Error {
  readonly code: ProbeFailureCode;
  readonly reached: boolean;

  constructor(code: ProbeFailureCode, message: string, reached: boolean) {
    super(message);
    this.name = 'ProbeError';
    this.code = code;
    this.reached = reached;
  }
}

/**
 * Filled in by a probe as it goes, so that when the hard timeout cuts it off the runner can
 * still tell "camera silent" (offline) from "camera connected but hung" (degraded).
 */
export interface ProbeProgress {
  connected: boolean;
}

export interface DeviceInfo {
  manufacturer: string;
  model: string;
  firmware: string;
  serial: string;
}

export interface ProbeSuccess {
  /** Facts learnt along the way (ONVIF device information, clock skew). */
  info?: DeviceInfo;
  clockSkewMs?: number;
}

export type ProbeResult =
  | ({ probe: ProbeName; ok: true; latencyMs: number } & ProbeSuccess)
  | { probe: ProbeName; ok: false; latencyMs: number; code: ProbeFailureCode; message: string; reached: boolean };

const networkCodes: Record<string, ProbeFailureCode> = {
  ECONNREFUSED: 'ECONNREFUSED',
  ECONNRESET: 'ECONNRESET',
  EPIPE: 'ECONNRESET',
  EHOSTUNREACH: 'EHOSTUNREACH',
  ENETUNREACH: 'EHOSTUNREACH',
  EHOSTDOWN: 'EHOSTUNREACH',
  ENOTFOUND: 'ENOTFOUND',
  EAI_AGAIN: 'ENOTFOUND',
  ETIMEDOUT: 'ETIMEDOUT',
};

/** Turn whatever a socket or http request threw into a ProbeError without losing the code. */
export function toProbeError(err: unknown, progress: ProbeProgress, what: string): ProbeError {
  if (err instanceof ProbeError) return err;
  const e = err as NodeJS.ErrnoException;
  const sysCode = typeof e?.code === 'string' ? e.code : undefined;
  let code: ProbeFailureCode = 'ENETWORK';
  if (sysCode !== undefined && sysCode in networkCodes) code = networkCodes[sysCode]!;
  else if (sysCode?.startsWith('ERR_TLS') || sysCode?.includes('CERT') || sysCode === 'DEPTH_ZERO_SELF_SIGNED_CERT') {
    code = 'TLS_ERROR';
  }
  const detail = e instanceof Error ? e.message : String(err);
  return new ProbeError(code, `${what}: ${detail}`, progress.connected && code !== 'ECONNREFUSED');
}
