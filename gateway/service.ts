import type { Logger } from 'pino';
import { ClockWatch } from './clock.js';
import { saveLastGood, stateDirOf } from './config/last-good.js';
import type { GatewayConfig } from './config/load.js';
import { ConfigStanding } from './config/standing.js';
import { ControlServer } from './control/server.js';
import { socketDirectoryAdvice } from './control/socket-directory.js';
import { Daemon } from './daemon.js';
import { OutboxLock } from './outbox/lock.js';
import { createSystemdNotifier } from './systemd/notify.js';
import { startWatchdog } from './systemd/watchdog.js';
import { versionInfo } from './version.js';

/**
 * The daemon as a systemd service: signals, sd_notify readiness and watchdog, the control
 * socket, and the clock watch, around the data path in daemon.ts. READY=1 is sent only once the
 * outbox is open and every driver has started; the watchdog is fed only while the event loop is
 * responsive and the outbox writer is alive.
 */
export interface RunningService {
  daemon: Daemon;
  stop(reason: string): Promise<void>;
}

export interface ServiceOptions {
  /** How the config came to be loaded: `last-good` when the files on disk were rejected at start. */
  configStanding?: ConfigStanding;
}

export async function runService(config: GatewayConfig, log: Logger, opts: ServiceOptions = {}): Promise<RunningService> {
  // First of all, before the control socket or the outbox is touched: one daemon per outbox.
  // Throws OutboxLockedError (naming the holder) when another daemon runs on it.
  const lock = OutboxLock.acquire(config.gateway.outbox.path, { configDir: config.dir, version: versionInfo().package });
  try {
    return await runLocked(config, log, lock, opts.configStanding ?? new ConfigStanding());
  } catch (err) {
    lock.release();
    throw err;
  }
}

async function runLocked(config: GatewayConfig, log: Logger, lock: OutboxLock, standing: ConfigStanding): Promise<RunningService> {
  const notify = createSystemdNotifier({ log });
  const clock = new ClockWatch({
    syncCheck: config.gateway.clock.syncCheck,
    syncedFile: config.gateway.clock.syncedFile,
    jumpThresholdMs: config.gateway.clock.jumpThreshold,
    log: log.child({ component: 'clock' }),
  });

  // The control socket comes next: if another daemon (on another outbox) answers on it, this one
  // must not open the outbox or start drivers.
  let daemon: Daemon | null = null;
  let control: ControlServer | null = new ControlServer(
    config.gateway.control.socket,
    {
      status: () => (daemon ? daemon.health() : { starting: true }),
      reload: () => (daemon ? reload() : Promise.resolve({ ok: false, problems: [{ file: '', line: null, path: '', message: 'still starting' }] })),
      commands: (req) => (daemon ? daemon.commands.recent(req.limit ?? 50, req.device) : []),
    },
    log.child({ component: 'control' }),
    { maxConnections: config.gateway.control.maxConnections, requestTimeoutMs: config.gateway.control.requestTimeout },
  );
  try {
    await control.listen();
  } catch (err) {
    if ((err as { code?: string }).code === 'ALREADY_RUNNING') throw err;
    // Status and tail are conveniences: a daemon that cannot offer them still forwards data.
    log.error(
      { err, socket: config.gateway.control.socket },
      `control socket unavailable: status/tail/reload over the socket will not work (SIGHUP still reloads)${socketDirectoryAdvice(config.gateway.control.socket, ': ')}`,
    );
    control = null;
  }

  daemon = await Daemon.start(config, log, {
    clockSynced: () => clock.isSynced(),
    clockStep: () => clock.tick(),
    onCommit: (runs) => control?.publishCommitted(runs),
    configStanding: standing,
    onConfigAccepted: (accepted) => keepAsLastGood(accepted, standing, log),
  });
  const d = daemon;
  const fallback = standing.report();
  if (fallback.running === 'last-good') {
    d.gatewayEvent('config.fallback', fallback.rejected?.problems ?? 0, { first: fallback.rejected?.first[0] ?? '', since: fallback.rejected?.since ?? '', lastGoodSavedAt: fallback.lastGoodSavedAt ?? '' });
  } else {
    keepAsLastGood(config, standing, log);
  }

  // Writing and pulsing by hand take the command channel's path (checks, journal, outcome event),
  // on a socket of their own whose group is separate from edge-gateway-ops.
  let actuate: ControlServer | null = new ControlServer(
    config.gateway.control.actuateSocket,
    {
      status: () => d.health(),
      reload: () => reload(),
      actuate: (req) => d.commands.local(req.cmd === 'write' ? { device: req.device, point: req.point, action: 'write', value: req.value } : { device: req.device, point: req.point, action: 'pulse', ...(req.durationMs !== undefined && { durationMs: req.durationMs }) }),
    },
    log.child({ component: 'actuate' }),
    { maxConnections: 4, requestTimeoutMs: config.gateway.control.requestTimeout },
    { serves: ['write', 'pulse'], group: config.gateway.control.actuateGroup },
  );
  try {
    await actuate.listen();
  } catch (err) {
    log.error({ err, socket: config.gateway.control.actuateSocket }, 'actuate socket unavailable: edge-gateway write/pulse will not work (remote commands are not affected)');
    actuate = null;
  }

  const watchdog = startWatchdog({ notify, isAlive: () => d.groupCommit.isAlive(), log });

  async function reload() {
    await notify.reloading('reloading configuration');
    const result = await d.reload();
    await notify.ready(result.ok ? 'running' : `running previous config: ${result.problems.length} problem(s) in new config, see edge-gateway status`);
    return result;
  }

  let stopping: Promise<void> | null = null;
  const stop = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      log.info({ reason }, 'stopping');
      await notify.stopping(reason);
      watchdog.stop();
      await control?.close();
      await actuate?.close();
      await d.stop();
      lock.release();
    })();
    return stopping;
  };

  process.on('SIGHUP', () => {
    log.info('SIGHUP: reloading configuration');
    reload().catch((err: unknown) => log.error({ err, signal: 'SIGHUP' }, 'reload failed; still running the previous config'));
  });

  const devices = `${config.devices.filter((x) => x.enabled).length} device(s)`;
  await notify.ready(
    fallback.running === 'last-good'
      ? `running the LAST GOOD config (saved ${fallback.lastGoodSavedAt}): ${fallback.rejected?.problems} problem(s) in ${config.dir}, see edge-gateway status; ${devices}`
      : `running: ${devices}`,
  );
  return { daemon: d, stop };
}

/** Keep a config that runs as the last good one; failing to (disk full) costs the fallback, not the daemon. */
function keepAsLastGood(config: GatewayConfig, standing: ConfigStanding, log: Logger): void {
  try {
    standing.saved(saveLastGood(config));
  } catch (err) {
    log.warn({ err, stateDir: stateDirOf(config) }, 'could not keep this config as the last good one; a restart with a broken config would have nothing to fall back to');
  }
}
