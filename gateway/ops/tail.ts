import { request, stream } from '../control/client.js';
import { GATEWAY_DEVICE } from '../gateway-device.js';
import type { ControlError, TailLine, TailSkipped } from '../control/protocol.js';
import { OpsError } from './ops-error.js';
import { resolveSocket, type SocketChoice } from './socket-path.js';
import { formatClock, jsonForTerminal, styleFor, terminalSafe, type Style } from './terminal.js';

/**
 * `edge-gateway tail`: readings and events as the daemon commits them, with their sequence
 * numbers, until Ctrl-C. The daemon never waits for a slow terminal: it skips lines and says how
 * many, and that is printed so a technician knows the view is incomplete (the outbox is not).
 */

export interface TailOptions extends SocketChoice {
  device?: string;
  events?: boolean;
  json?: boolean;
}

type TailMessage = TailLine | TailSkipped | ControlError;

export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

export function renderTailLine(line: TailLine, style: Style): string {
  const value = `${formatValue(line.value)}${line.unit ? ` ${line.unit}` : ''}`;
  const quality = line.quality === 'good' ? line.quality : style.paint(line.quality === 'bad' ? 'red' : 'yellow', line.quality);
  const base = `${String(line.seq).padStart(8)}  ${formatClock(line.ts)}  ${line.device}  ${line.point}  ${value}  ${quality}`;
  if (line.kind !== 'event') return base;
  const attrs = line.attrs && Object.keys(line.attrs).length > 0 ? `  ${JSON.stringify(line.attrs)}` : '';
  return style.paint('magenta', `${base}  EVENT${attrs}`);
}

export function renderSkipped(count: number, style: Style): string {
  return style.paint('yellow', `… ${count} line(s) not shown: this terminal could not keep up (they are in the outbox and will be forwarded)`);
}

export async function runTail(opts: TailOptions, signal: AbortSignal): Promise<number> {
  const socket = resolveSocket(opts);
  const style = styleFor(process.stdout);
  if (opts.device !== undefined) await refuseUnknownDevice(socket, opts.device);
  const req = { cmd: 'tail' as const, device: opts.device, stream: opts.events ? ('event' as const) : undefined };
  for await (const msg of stream<TailMessage>(socket, req, signal)) {
    if (msg.type === 'error') throw new OpsError('DAEMON_REFUSED', `gateway refused tail: ${msg.message} (${msg.code})`);
    if (opts.json) process.stdout.write(`${jsonForTerminal(msg)}\n`);
    else if (msg.type === 'skipped') process.stdout.write(`${renderSkipped(msg.count, style)}\n`);
    else process.stdout.write(`${renderTailLine(terminalSafe(msg), style)}\n`);
  }
  if (signal.aborted) return 0;
  throw new OpsError('TAIL_CLOSED', `tail ended: the gateway at ${socket} closed the connection (stopped or restarting?)`);
}

/**
 * A device the daemon does not run would simply print nothing, forever, which looks like a device
 * that sends nothing. Ask the daemon which devices it runs and say so instead.
 */
async function refuseUnknownDevice(socket: string, device: string): Promise<void> {
  const status = await request<{ devices?: Record<string, unknown> }>(socket, { cmd: 'status' });
  if (!status.devices || device === GATEWAY_DEVICE || device in status.devices) return;
  const running = Object.keys(status.devices).sort();
  throw new OpsError(
    'NO_SUCH_DEVICE',
    `no such device: "${terminalSafe(device)}" is not running on this gateway (running: ${running.length > 0 ? running.map((d) => terminalSafe(d)).join(', ') : 'none'}; the gateway's own events: ${GATEWAY_DEVICE}). Device ids are the file names under devices/ unless the file sets id:`,
  );
}
