/**
 * One line of `edge-gateway doctor`: what was checked, the verdict, what was seen, and — for a
 * warning or failure — what a technician should do about it.
 */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  /** Stable id for scripts, e.g. `broker:mqtt://10.0.0.5:1883` or `device:pump-3`. */
  id: string;
  title: string;
  status: CheckStatus;
  detail: string;
  advice?: string;
}

export function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
