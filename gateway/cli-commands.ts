import { Command } from 'commander';
import { loadConfigOrLastGood, type StartConfig } from './config/last-good.js';
import { ConfigError, formatProblem, loadConfig, permissionAdvice } from './config/load.js';
import { ConfigStanding } from './config/standing.js';
import { EXIT_OUTBOX_LOCKED, OutboxLockedError } from './outbox/lock.js';
import { OutboxAccessError } from './outbox/open-error.js';
import { runService, type RunningService } from './service.js';
import { readPasswd, rootRunRefusal, SERVICE_USER } from './service-user.js';
import { createLogger } from './log.js';
import { registerOpsCommands } from './ops/register.js';
import { formatVersion } from './version.js';
import { registerCommandVerbs } from './ops/commands-verbs.js';

/**
 * The `edge-gateway` command, loaded by cli.ts once the Node it runs on is the right one. Each subcommand is a thin shell over a module that does the work,
 * so the same code paths are exercised by tests without spawning processes.
 */

// `edge-gateway status | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

/*
 * Exit codes of `edge-gateway run` (the systemd unit and the package scripts rely on them):
 *   0   stopped by SIGTERM/SIGINT
 *   1   could not start for another reason (logged)
 *   64  EX_USAGE: run as root while the service user exists (service-user.ts)
 *   70  EX_SOFTWARE: uncaught exception; systemd restarts it on the same outbox
 *   75  EX_TEMPFAIL: another daemon holds this outbox's lock (outbox/lock.ts); it names the holder
 *   78  EX_CONFIG: invalid config with no last good one to run, or an outbox it may not open
 */
/** sysexits' EX_CONFIG: lets the systemd unit refuse to restart-loop on a broken config. */
const EXIT_CONFIG = 78;
/** sysexits' EX_USAGE: the command was used in a way that would do harm (see service-user.ts). */
const EXIT_USAGE = 64;

const program = new Command()
  .name('edge-gateway')
  .description('Field drivers → durable SQLite outbox → MQTT store-and-forward')
  .version(formatVersion(), '-V, --version', 'print the package, Node.js and outbox schema versions')
  .showHelpAfterError();

program
  .command('run')
  .description('run the gateway daemon')
  .requiredOption('-c, --config <dir>', 'config directory (gateway.yaml + devices/*.yaml)')
  .option('--log-level <level>', 'override log.level from gateway.yaml')
  .option('--allow-root', `run as root even though the service user ${SERVICE_USER} exists`)
  .action(async (opts: { config: string; logLevel?: string; allowRoot?: boolean }) => {
    const refusal = rootRunRefusal(process.getuid?.() ?? -1, readPasswd(), opts.allowRoot === true);
    if (refusal) {
      process.stderr.write(`edge-gateway: ${refusal}\n`);
      process.exit(EXIT_USAGE);
    }
    let start: StartConfig;
    try {
      start = loadConfigOrLastGood(opts.config);
    } catch (err) {
      if (err instanceof ConfigError) {
        for (const p of err.problems) process.stderr.write(`${formatProblem(p)}\n`);
        if (err.permissionDenied) process.stderr.write(`edge-gateway: not started: permission denied; ${permissionAdvice(`run -c ${opts.config}`, 'or start the service: systemctl start edge-gateway')}\n`);
        else process.stderr.write(`edge-gateway: not started: ${err.total} configuration problem(s) in ${opts.config}, and no last good config to run instead\n`);
        process.exit(EXIT_CONFIG);
      }
      throw err;
    }
    const config = start.config;
    const configStanding = new ConfigStanding(start.rejected ? 'last-good' : 'config-dir', start.rejected ? start.lastGood.savedAt : null);
    if (start.rejected) configStanding.reject(start.rejected, 'start');
    // Drivers open the files their device config names (secrets, certificates, PKI folders) while
    // running; relative names mean relative to the config directory, as check-config read them.
    process.chdir(config.dir);
    const log = createLogger(opts.logLevel ?? config.gateway.log.level);
    installLastResortHandlers(log);
    for (const w of config.warnings) log.warn({ file: w.file, line: w.line, key: w.path }, `config warning: ${formatProblem(w)}`);
    if (start.rejected) {
      // Loud: the devices keep reading, but the files on disk are not what runs.
      for (const p of start.rejected) log.error({ file: p.file, line: p.line, key: p.path }, `config rejected: ${formatProblem(p)}`);
      const message = `config in ${config.dir} is invalid (${start.rejected.length} problem(s)): running the LAST GOOD config saved ${start.lastGood.savedAt} (${start.lastGood.from}) instead; fix the files, check them (edge-gateway check-config ${config.dir}), then reload`;
      log.error({ problems: start.rejected.length, lastGood: start.lastGood.from, savedAt: start.lastGood.savedAt }, message);
      process.stderr.write(`edge-gateway: ${message}\n`);
    }
    let service: RunningService;
    try {
      service = await runService(config, log, { configStanding });
    } catch (err) {
      if (err instanceof OutboxLockedError) {
        // Not a failure of this config: systemd must not restart into the same refusal (see the unit).
        log.fatal({ code: err.code, holder: err.holder, path: config.gateway.outbox.path }, err.message);
        process.stderr.write(`edge-gateway: not started: ${err.message}\n`);
        process.exit(EXIT_OUTBOX_LOCKED);
      }
      if (err instanceof OutboxAccessError) {
        // Not corruption and not transient: restarting cannot help until someone fixes it.
        log.fatal({ code: err.code, path: config.gateway.outbox.path }, err.message);
        process.stderr.write(`edge-gateway: not started: ${err.message}\n`);
        process.exit(EXIT_CONFIG);
      }
      log.fatal({ err }, 'gateway could not start');
      process.exit(1);
    }
    log.info({ devices: config.devices.filter((d) => d.enabled).map((d) => d.id) }, 'gateway running');

    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting without waiting');
        process.exit(1);
      }
      stopping = true;
      service.stop(signal).then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err }, 'error while stopping');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
  });

program
  .command('check-config')
  .description('validate a config directory without starting anything (exit 0 = valid)')
  .argument('<dir>', 'config directory')
  .option('--json', 'print the result as JSON')
  .action((dir: string, opts: { json?: boolean }) => {
    try {
      const config = loadConfig(dir);
      const summary = { valid: true, warnings: config.warnings, gateway: config.gateway.gateway.id, devices: config.devices.map((d) => ({ id: d.id, type: d.type, enabled: d.enabled, file: config.deviceFiles[d.id] })) };
      if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else {
        for (const w of config.warnings) process.stdout.write(`warning: ${formatProblem(w)}\n`);
        process.stdout.write(`${dir}: valid — gateway ${summary.gateway}, ${summary.devices.length} device(s)\n`);
        for (const d of summary.devices) process.stdout.write(`  ${d.id}  ${d.type}${d.enabled ? '' : '  (disabled)'}  ${d.file}\n`);
      }
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      if (opts.json) process.stdout.write(`${JSON.stringify({ valid: false, problems: err.problems }, null, 2)}\n`);
      else {
        for (const p of err.problems) process.stdout.write(`${formatProblem(p)}\n`);
        // A config this user may not read is not a broken config: say how to run instead.
        if (err.permissionDenied) process.stdout.write(`not checked: permission denied; ${permissionAdvice(`check-config ${dir}`)}\n`);
        else {
          if (err.problems.some((p) => p.permissionDenied)) process.stdout.write(`some files could not be read: ${permissionAdvice(`check-config ${dir}`)}\n`);
          process.stdout.write(`${err.total} problem(s) found in ${dir}\n`);
        }
      }
      process.exitCode = 1;
    }
  });

/** sysexits' EX_SOFTWARE: an internal error; systemd restarts the unit on the same outbox. */
const EXIT_SOFTWARE = 70;

/**
 * Behind the containment at every boundary (control request, driver callback, timer), a last
 * resort for what slips through. A rejection nobody awaited is logged and the daemon keeps
 * running: no stack was unwound halfway through an update. An uncaught exception did unwind one,
 * so the daemon's state is unknown: it logs what happened and exits for systemd to restart it;
 * committed readings are safe in the outbox and are sent after the restart.
 */
function installLastResortHandlers(log: ReturnType<typeof createLogger>): void {
  process.on('unhandledRejection', (reason) => {
    log.error({ err: reason, code: 'UNHANDLED_REJECTION' }, 'a promise was rejected with nobody to handle it; contained, the daemon keeps running (please report this as a bug)');
  });
  process.on('uncaughtException', (err) => {
    log.fatal({ err, code: 'UNCAUGHT_EXCEPTION' }, 'uncaught exception: exiting so systemd restarts the gateway; committed readings stay in the outbox');
    process.exit(EXIT_SOFTWARE);
  });
}

// The technician commands: status, tail, reload, doctor, probe (gateway/ops/register.ts).
registerOpsCommands(program);
registerCommandVerbs(program);

program.parseAsync().catch((err: unknown) => {
  process.stderr.write(`edge-gateway: ${(err as Error).message}\n`);
  process.exit(1);
});
