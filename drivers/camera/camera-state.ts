import type { ProbeResult } from './probe-result.js';

export type CameraState = 'online' | 'degraded' | 'offline';

export interface CameraEvaluation {
  state: CameraState;
  /** Stable, machine-readable: "ok", or failing probes as "probe:CODE" joined by commas. */
  reason: string;
  /** Human-readable detail of the failures (already redacted by the caller). */
  message: string;
}

/**
 * online: every configured probe passed. degraded: the camera answered on the network (some probe
 * connected) but the stream, auth, ONVIF or snapshot failed. offline: nothing connected at all.
 */
export function evaluateProbes(results: readonly ProbeResult[]): CameraEvaluation {
  const failures = results.filter((r) => !r.ok);
  if (failures.length === 0) return { state: 'online', reason: 'ok', message: 'all probes passed' };
  const reached = results.some((r) => r.ok || r.reached);
  return {
    state: reached ? 'degraded' : 'offline',
    reason: failures.map((f) => `${f.probe}:${f.code}`).join(','),
    message: failures.map((f) => f.message).join('; '),
  };
}
