/**
 * The local control socket speaks newline-delimited JSON: one request line from the client, then
 * one response line (status, reload) or a stream of lines (tail) until either side closes.
 */
export type ControlRequest =
  | { cmd: 'status' }
  | { cmd: 'reload' }
  | { cmd: 'tail'; device?: string; stream?: 'event' | 'telemetry' }
  /** The command journal, newest first (ops socket). */
  | { cmd: 'commands'; device?: string; limit?: number }
  /** A technician's write or pulse, through the command channel (actuate socket only). */
  | { cmd: 'write'; device: string; point: string; value: number | boolean }
  | { cmd: 'pulse'; device: string; point: string; durationMs?: number };

/** The requests that move equipment: served only on the actuate socket. */
export const ACTUATE_COMMANDS = ['write', 'pulse'] as const;
export type ControlCommand = ControlRequest['cmd'];

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

export const REQUEST_SHAPE = 'a request is one JSON object per line: {"cmd":"status"}, {"cmd":"reload"}, {"cmd":"tail","device":"<id>","stream":"event"|"telemetry"}, {"cmd":"commands","device":"<id>","limit":<n>}; on the actuate socket {"cmd":"write","device":"<id>","point":"<name>","value":<number|bool>} or {"cmd":"pulse","device":"<id>","point":"<name>","durationMs":<n>}';

/** Most journal entries one `commands` request returns. */
export const MAX_COMMANDS_LISTED = 1000;

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
    case 'commands': {
      if (o.device !== undefined && typeof o.device !== 'string') return bad('BAD_REQUEST', `commands: "device" must be a string; ${REQUEST_SHAPE}`);
      if (o.limit !== undefined && (!Number.isInteger(o.limit) || (o.limit as number) < 1 || (o.limit as number) > MAX_COMMANDS_LISTED)) {
        return bad('BAD_REQUEST', `commands: "limit" must be an integer 1..${MAX_COMMANDS_LISTED}`);
      }
      return { ok: true, req: { cmd: 'commands', device: o.device as string | undefined, limit: o.limit as number | undefined } };
    }
    case 'write':
    case 'pulse': {
      if (typeof o.device !== 'string' || typeof o.point !== 'string') return bad('BAD_REQUEST', `${o.cmd}: "device" and "point" must be strings; ${REQUEST_SHAPE}`);
      if (o.cmd === 'write') {
        if (typeof o.value !== 'number' && typeof o.value !== 'boolean') return bad('BAD_REQUEST', `write: "value" must be a number or true/false`);
        return { ok: true, req: { cmd: 'write', device: o.device, point: o.point, value: o.value } };
      }
      if (o.durationMs !== undefined && !Number.isInteger(o.durationMs)) return bad('BAD_REQUEST', 'pulse: "durationMs" must be an integer');
      return { ok: true, req: { cmd: 'pulse', device: o.device, point: o.point, durationMs: o.durationMs as number | undefined } };
    }
    default:
      return bad('UNKNOWN_COMMAND', `unknown command ${JSON.stringify(o.cmd).slice(0, 80)}; ${REQUEST_SHAPE}`);
  }
}

function bad(code: string, message: string): ParsedRequest {
  return { ok: false, error: { type: 'error', code, message } };
}
