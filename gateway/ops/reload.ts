import { formatProblem } from '../config/load.js';
import { request } from '../control/client.js';
import type { ReloadResult } from '../daemon.js';
import { resolveSocket, type SocketChoice } from './socket-path.js';
import { jsonForTerminal, styleFor, terminalSafe, type Style } from './terminal.js';

/**
 * `edge-gateway reload`: the same reload as SIGHUP, but with the answer: what was rejected (file,
 * line, key) or which devices were started, stopped or restarted and which changed settings wait
 * for a restart. A rejected config leaves the daemon running the previous one, so exit 1 only
 * says "your edit did not take".
 */

export interface ReloadOptions extends SocketChoice {
  json?: boolean;
}

/** Reloads restart devices, which can take a while (a driver's stop waits for its I/O). */
const RELOAD_TIMEOUT_MS = 60_000;

export function renderReload(result: ReloadResult, style: Style): string {
  if (!result.ok) {
    const lines = result.problems.map((p) => style.paint('red', formatProblem(p)));
    lines.push(`reload rejected: ${result.total ?? result.problems.length} problem(s); the gateway keeps running its previous configuration`);
    return `${lines.join('\n')}\n`;
  }
  const list = (ids: string[]) => (ids.length === 0 ? '-' : ids.join(', '));
  const lines = [
    style.paint('green', 'reloaded'),
    `  started    ${list(result.started)}`,
    `  stopped    ${list(result.stopped)}`,
    `  restarted  ${list(result.restarted)}`,
    `  unchanged  ${list(result.unchanged)}`,
  ];
  if (result.restartNeeded.length > 0) {
    lines.push(
      style.paint('yellow', `changed settings that take effect only after a restart: ${result.restartNeeded.join(', ')}`),
      '  (systemctl restart edge-gateway; buffered readings are kept)',
    );
  }
  return `${lines.join('\n')}\n`;
}

export async function runReload(opts: ReloadOptions): Promise<number> {
  const socket = resolveSocket(opts);
  const result = await request<ReloadResult>(socket, { cmd: 'reload' }, RELOAD_TIMEOUT_MS);
  process.stdout.write(opts.json ? `${jsonForTerminal(result, 2)}\n` : renderReload(terminalSafe(result, { keepLineBreaks: true }), styleFor(process.stdout)));
  return result.ok ? 0 : 1;
}
