/**
 * A failure of a technician command whose message is meant to be printed as is (no stack): what
 * went wrong, where, and what to do. `code` is stable for scripts and tests.
 */
export type OpsErrorCode =
  | 'CONFIG_UNREADABLE'
  | 'BAD_OPTION'
  | 'DAEMON_REFUSED'
  | 'TAIL_CLOSED'
  | 'NO_SUCH_DEVICE'
  | 'PROBE_OPEN_FAILED'
  | 'BAD_VALUE'
  | 'ACTUATE_DENIED';

export class OpsError extends Error {
  constructor(
    readonly code: OpsErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OpsError';
  }
}
