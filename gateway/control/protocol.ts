/**
 * The local control socket speaks newline-delimited JSON: one request line from the client, then
 * one response line (status, reload) or a stream of lines (tail) until either side closes.
 */
export type ControlRequest =
  | { cmd: 'status' }
  | { cmd: 'reload' }
  | { cmd: 'tail'; device?: string; stream?: 'event' | 'telemetry' };

export interface TailLine {
  type: 'reading';
  seq: number;
  device: string;
  point: string;
  value: unknown;
  unit?: string;
  quality: string;
  ts: number;
  kind?: 'event';
  attrs?: Record<string, unknown>;
}

/** Sent to a tail client that could not keep up, in place of the lines it missed. */
export interface TailSkipped {
  type: 'skipped';
  count: number;
}

export interface ControlError {
  type: 'error';
  code: string;
  message: string;
}

export const MAX_REQUEST_BYTES = 4096;
