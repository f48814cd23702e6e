/**
 * Feeds systemd's watchdog (WatchdogSec=) only while the daemon is demonstrably working, so a
 * wedged daemon is killed and restarted instead of sitting in a cabinet looking "active".
 *
 * A ping certifies the period since the previous one: the event loop never stalled longer than
 * `maxLoopLagMs`, and the caller's liveness probe (e.g. "the outbox writer committed, or was idle
 * but responsive, recently") says yes right now. A loop blocked for good needs no detection: no
 * timer runs, no ping is sent. The drift check catches the loop that is merely mostly stuck.
 *
 * Pings are due every WatchdogSec/2, as sd_watchdog_enabled(3) recommends. Withholding one ping
 * therefore usually means a restart; that is the intent, so the default lag bound is generous.
 */
import type { Logger } from 'pino';
import type { SystemdNotifier } from './notify.js';

export interface WatchdogOptions {
  notify: Pick<SystemdNotifier, 'watchdog'>;
  /** Must be cheap and must not throw (a throw counts as "not alive"). */
  isAlive: () => boolean;
  log: Logger;
  /** Where WATCHDOG_USEC and WATCHDOG_PID come from; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Longest tolerated event-loop stall between pings. Default: half the ping interval. */
  maxLoopLagMs?: number;
}

export interface WatchdogStats {
  pings: number;
  withheldLoopLag: number;
  withheldNotAlive: number;
  /** Longest stall seen in the most recently judged period, in ms. */
  lastLoopLagMs: number;
}

export interface WatchdogHandle {
  /** False when systemd asked for no watchdog (or asked another process). */
  readonly enabled: boolean;
  /** How often a ping is due, in ms; null when disabled. */
  readonly pingIntervalMs: number | null;
  stats(): WatchdogStats;
  stop(): void;
}

export type WatchdogWithheldCode = 'WATCHDOG_WITHHELD_LOOP_LAG' | 'WATCHDOG_WITHHELD_NOT_ALIVE';

/** Read the watchdog interval systemd handed us, or null if there is none meant for this process. */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, log: Logger, pid = process.pid): number | null {
  const usec = env.WATCHDOG_USEC;
  if (usec === undefined || usec === '') return null;
  if (!/^\d+$/.test(usec) || Number(usec) <= 0) {
    log.warn({ code: 'WATCHDOG_BAD_ENV', WATCHDOG_USEC: usec }, 'WATCHDOG_USEC is not a positive integer; watchdog disabled');
    return null;
  }
  const forPid = env.WATCHDOG_PID;
  if (forPid !== undefined && forPid !== '' && forPid !== String(pid)) {
    // systemd sets WATCHDOG_PID to the main PID; we are a child that inherited it.
    log.debug({ WATCHDOG_PID: forPid, pid }, 'watchdog belongs to another process; not pinging');
    return null;
  }
  return Number(usec) / 1000;
}

export function startWatchdog(options: WatchdogOptions): WatchdogHandle {
  const log = options.log.child({ component: 'watchdog' });
  const stats: WatchdogStats = { pings: 0, withheldLoopLag: 0, withheldNotAlive: 0, lastLoopLagMs: 0 };
  const watchdogMs = watchdogIntervalMs(options.env ?? process.env, log);
  if (watchdogMs === null) {
    return { enabled: false, pingIntervalMs: null, stats: () => ({ ...stats }), stop: () => {} };
  }

  const pingMs = Math.max(10, watchdogMs / 2);
  const maxLagMs = options.maxLoopLagMs ?? pingMs / 2;
  // One small timer both measures drift and decides; a second timer for pings would see the same
  // stall again after it ended and withhold twice for one event.
  const probeMs = Math.min(1000, Math.max(5, pingMs / 10));
  let lastProbeAt = performance.now();
  let periodStart = lastProbeAt;
  let periodMaxLag = 0;
  let withholding: WatchdogWithheldCode | null = null;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const judge = () => {
    stats.lastLoopLagMs = Math.round(periodMaxLag);
    let alive: boolean;
    let probeError: string | undefined;
    try {
      alive = options.isAlive() === true;
    } catch (err) {
      alive = false;
      probeError = err instanceof Error ? err.message : String(err);
    }
    let verdict: WatchdogWithheldCode | null = null;
    if (periodMaxLag > maxLagMs) verdict = 'WATCHDOG_WITHHELD_LOOP_LAG';
    else if (!alive) verdict = 'WATCHDOG_WITHHELD_NOT_ALIVE';

    if (verdict === null) {
      stats.pings += 1;
      void options.notify.watchdog();
      if (withholding !== null) log.info({ resolved: withholding }, 'watchdog pings resumed');
    } else {
      if (verdict === 'WATCHDOG_WITHHELD_LOOP_LAG') stats.withheldLoopLag += 1;
      else stats.withheldNotAlive += 1;
      // Once per streak: the next withheld ping normally ends with systemd restarting us.
      if (withholding !== verdict) {
        log.warn(
          { code: verdict, loopLagMs: stats.lastLoopLagMs, maxLoopLagMs: maxLagMs, watchdogMs, probeError },
          verdict === 'WATCHDOG_WITHHELD_LOOP_LAG'
            ? 'event loop stalled; withholding watchdog ping so systemd restarts a wedged daemon'
            : 'liveness probe failed; withholding watchdog ping so systemd restarts a wedged daemon',
        );
      }
    }
    withholding = verdict;
  };

  const probe = () => {
    if (stopped) return;
    const now = performance.now();
    periodMaxLag = Math.max(periodMaxLag, now - lastProbeAt - probeMs);
    lastProbeAt = now;
    // Decide slightly early rather than late: probe granularity must not push a ping past the
    // half-interval systemd expects.
    if (now - periodStart >= pingMs - probeMs / 2) {
      judge();
      periodStart = now;
      periodMaxLag = 0;
    }
    timer = setTimeout(probe, probeMs);
    // The watchdog must never be what keeps a stopping process alive.
    timer.unref();
  };
  timer = setTimeout(probe, probeMs);
  timer.unref();
  log.info({ watchdogMs, pingIntervalMs: pingMs, maxLoopLagMs: maxLagMs }, 'systemd watchdog armed');

  return {
    enabled: true,
    pingIntervalMs: pingMs,
    stats: () => ({ ...stats }),
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
