import { lastGoodQuietly } from '../config/last-good.js';
import { ConfigError, formatProblem, loadConfig } from '../config/load.js';
import { OpsError } from './ops-error.js';

/** The control socket path when neither --socket nor --config is given (gateway.yaml's default). */
export const DEFAULT_CONTROL_SOCKET = '/run/edge-gateway/control.sock';
/** The actuate socket when neither --socket nor --config is given (gateway.yaml's default). */
export const DEFAULT_ACTUATE_SOCKET = '/run/edge-gateway/actuate.sock';

export interface SocketChoice {
  socket?: string;
  config?: string;
}

/**
 * Which control socket a command talks to: --socket, else the one configured in --config DIR,
 * else the packaged default. A broken config falls back to its last good one (which the daemon
 * may be running); without one it is reported plainly, with --socket as the way around it.
 */
export function resolveSocket(opts: SocketChoice, which: 'socket' | 'actuateSocket' = 'socket'): string {
  if (opts.socket) return opts.socket;
  if (!opts.config) return which === 'socket' ? DEFAULT_CONTROL_SOCKET : DEFAULT_ACTUATE_SOCKET;
  try {
    return loadConfig(opts.config).gateway.control[which];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // Halfway through an edit, or the daemon runs its last good config: that one names the socket.
    const lastGood = lastGoodQuietly(opts.config);
    if (lastGood) return lastGood.gateway.control.socket;
    const first = err.problems.slice(0, 3).map(formatProblem).join('\n  ');
    throw new OpsError(
      'CONFIG_UNREADABLE',
      `cannot read the control socket path from ${opts.config}: ${err.problems.length} configuration problem(s):\n  ${first}\n(pass --socket PATH to reach a running gateway anyway)`,
    );
  }
}
