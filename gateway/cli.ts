#!/usr/bin/env node
import { Command } from 'commander';
import { ConfigError, formatProblem, loadConfig } from './config/load.js';
import { runService, type RunningService } from './service.js';
import { createLogger } from './log.js';
import { registerOpsCommands } from './ops/register.js';

/**
 * The `edge-gateway` command. Each subcommand is a thin shell over a module that does the work,
 * so the same code paths are exercised by tests without spawning processes.
 */

// `edge-gateway status | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

/** sysexits' EX_CONFIG: lets the systemd unit refuse to restart-loop on a broken config. */
const EXIT_CONFIG = 78;

const program = new Command()
  .name('edge-gateway')
  .description('Field drivers → durable SQLite outbox → MQTT store-and-forward')
  .showHelpAfterError();

program
  .command('run')
  .description('run the gateway daemon')
  .requiredOption('-c, --config <dir>', 'config directory (gateway.yaml + devices/*.yaml)')
  .option('--log-level <level>', 'override log.level from gateway.yaml')
  .action(async (opts: { config: string; logLevel?: string }) => {
    let config;
    try {
      config = loadConfig(opts.config);
    } catch (err) {
      if (err instanceof ConfigError) {
        for (const p of err.problems) process.stderr.write(`${formatProblem(p)}\n`);
        process.stderr.write(`edge-gateway: not started: ${err.problems.length} configuration problem(s) in ${opts.config}\n`);
        process.exit(EXIT_CONFIG);
      }
      throw err;
    }
    // Drivers open the files their device config names (secrets, certificates, PKI folders) while
    // running; relative names mean relative to the config directory, as check-config read them.
    process.chdir(config.dir);
    const log = createLogger(opts.logLevel ?? config.gateway.log.level);
    for (const w of config.warnings) log.warn({ file: w.file, line: w.line, key: w.path }, `config warning: ${formatProblem(w)}`);
    let service: RunningService;
    try {
      service = await runService(config, log);
    } catch (err) {
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
        process.stdout.write(`${err.problems.length} problem(s) found in ${dir}\n`);
      }
      process.exitCode = 1;
    }
  });

// The technician commands: status, tail, reload, doctor, probe (gateway/ops/register.ts).
registerOpsCommands(program);

program.parseAsync().catch((err: unknown) => {
  process.stderr.write(`edge-gateway: ${(err as Error).message}\n`);
  process.exit(1);
});
