import { request } from '../control/client.js';
import type { CommandReport } from '../commands/command-runner.js';
import type { JournalEntry } from '../commands/journal.js';
import { OpsError } from './ops-error.js';
import { resolveSocket, type SocketChoice } from './socket-path.js';
import { escapeControl, formatClock, jsonForTerminal, styleFor, table } from './terminal.js';

/**
 * `edge-gateway commands`: the command journal, newest first (every command, executed or not).
 * `edge-gateway write` / `pulse`: a technician's command for commissioning, through the daemon's
 * command channel (same checks, journal and outcome event as a remote one), on the actuate socket.
 */
export interface CommandsOptions extends SocketChoice {
  device?: string;
  limit?: number;
  json?: boolean;
}

export async function runCommandsList(opts: CommandsOptions): Promise<number> {
  const entries = await request<JournalEntry[]>(resolveSocket(opts), { cmd: 'commands', device: opts.device, limit: opts.limit });
  if (opts.json) {
    for (const e of entries) process.stdout.write(`${jsonForTerminal(e)}\n`);
    return 0;
  }
  if (entries.length === 0) {
    process.stdout.write(opts.device ? `no commands for device ${escapeControl(opts.device)} in the journal\n` : 'the command journal is empty\n');
    return 0;
  }
  const style = styleFor(process.stdout);
  const paint = (o: string) => (o === 'executed' ? style.paint('green', o) : o === 'pending' ? o : style.paint(o === 'rejected' || o === 'expired' ? 'yellow' : 'red', o));
  const rows = entries.map((e) => [formatClock(e.receivedMs), e.source, e.id, e.device, e.point, `${e.action} ${e.request}`, paint(e.outcome), e.reason ?? ''].map((c) => escapeControl(String(c))));
  process.stdout.write(`${table(['received', 'from', 'id', 'device', 'point', 'asked', 'outcome', 'reason'], rows, style)}\n`);
  return 0;
}

export interface ActuateOptions extends SocketChoice {
  json?: boolean;
}

/** Parse a command-line value: true/false/on/off for coils and outputs, else a finite number. */
export function parseValue(text: string): number | boolean {
  const t = text.trim().toLowerCase();
  if (t === 'true' || t === 'on') return true;
  if (t === 'false' || t === 'off') return false;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new OpsError('BAD_VALUE', `value must be a number or true/false/on/off, got "${escapeControl(text)}"`);
  return n;
}

export async function runActuate(
  what: { cmd: 'write'; device: string; point: string; value: number | boolean } | { cmd: 'pulse'; device: string; point: string; durationMs?: number },
  opts: ActuateOptions,
): Promise<number> {
  const socket = resolveSocket(opts, 'actuateSocket');
  let report: CommandReport;
  try {
    report = await request<CommandReport>(socket, what, 660_000);
  } catch (err) {
    const e = err as Error & { cause?: NodeJS.ErrnoException };
    if (e.cause?.code === 'EACCES') {
      throw new OpsError('ACTUATE_DENIED', `permission denied on ${socket}: moving equipment needs the edge-gateway-actuate group (usermod -a -G edge-gateway-actuate NAME, then log in again)`);
    }
    throw err;
  }
  if (opts.json) process.stdout.write(`${jsonForTerminal(report)}\n`);
  else {
    const detail = [report.readBack !== undefined ? `read back ${String(report.readBack)}` : '', report.latencyMs !== undefined ? `${report.latencyMs} ms` : '', report.reason ?? ''].filter(Boolean).join(', ');
    process.stdout.write(`${escapeControl(`${what.device}/${what.point}: ${report.outcome}${detail ? ` (${detail})` : ''}; journal id ${report.id ?? '-'}`)}\n`);
  }
  return report.outcome === 'executed' ? 0 : 1;
}
