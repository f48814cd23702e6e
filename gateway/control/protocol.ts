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

/** The cap on one request line; a longer line is refused, whether or not its newline has arrived. */
export const MAX_REQUEST_BYTES = 4096;

export const REQUEST_SHAPE = 'a request is one JSON object per line: {"cmd":"status"}, {"cmd":"reload"} or {"cmd":"tail","device":"<id>","stream":"event"|"telemetry"}';

export type ParsedRequest = { ok: true; req: ControlRequest } | { ok: false; error: ControlError };

/**
 * Validate one request line. Anything a local user can send (not JSON, `null`, an array, a
 * number, an object with the wrong fields) gets an answer that says what a request looks like.
 */
export function parseRequest(line: string): ParsedRequest {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return bad('BAD_REQUEST', `request is not JSON; ${REQUEST_SHAPE}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    const what = raw === null ? 'null' : Array.isArray(raw) ? 'an array' : `a ${typeof raw}`;
    return bad('BAD_REQUEST', `request is ${what}, not an object; ${REQUEST_SHAPE}`);
  }
  const o = raw as Record<string, unknown>;
  if (typeof o.cmd !== 'string') return bad('BAD_REQUEST', `request has no "cmd" string; ${REQUEST_SHAPE}`);
  switch (o.cmd) {
    case 'status':
    case 'reload':
      return { ok: true, req: { cmd: o.cmd } };
    case 'tail': {
      if (o.device !== undefined && typeof o.device !== 'string') return bad('BAD_REQUEST', `tail: "device" must be a string; ${REQUEST_SHAPE}`);
      if (o.stream !== undefined && o.stream !== 'event' && o.stream !== 'telemetry') return bad('BAD_REQUEST', `tail: "stream" must be "event" or "telemetry"; ${REQUEST_SHAPE}`);
      return { ok: true, req: { cmd: 'tail', device: o.device as string | undefined, stream: o.stream as 'event' | 'telemetry' | undefined } };
    }
    default:
      return bad('UNKNOWN_COMMAND', `unknown command ${JSON.stringify(o.cmd).slice(0, 80)}; ${REQUEST_SHAPE}`);
  }
}

function bad(code: string, message: string): ParsedRequest {
  return { ok: false, error: { type: 'error', code, message } };
}
