export type BrokerErrorCode =
  /** EDGE_GATEWAY_BROKER=mosquitto but the binary is missing. */
  | 'BROKER_UNAVAILABLE'
  /** EDGE_GATEWAY_BROKER holds a value we do not know. */
  | 'BROKER_BAD_ENV'
  /** The broker did not come up (bind failure, bad config, timeout). */
  | 'BROKER_START_FAILED'
  /** The broker process did not exit after SIGTERM and SIGKILL. */
  | 'BROKER_STOP_FAILED';

export class BrokerError extends Error {
  constructor(
    readonly code: BrokerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BrokerError';
  }
}
