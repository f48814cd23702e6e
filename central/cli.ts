#!/usr/bin/env node
import os from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import pg from 'pg';
import { createLogger } from '../gateway/log.js';
import { startIngest } from './ingest.js';
import { migrate } from './migrate.js';

/**
 * `node dist/central/cli.js ingest --broker mqtt://... --database postgres://... --prefix city`
 * (docs/ingest.md). Passwords come from the environment (MQTT_PASSWORD; PGPASSWORD, which
 * node-postgres reads as libpq does), so they stay out of argv where `ps` shows them.
 */
const positiveInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`"${v}" is not a positive integer`);
  return n;
};

const positiveNumber = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`"${v}" is not a positive number`);
  return n;
};

const program = new Command().name('edge-ingest').description('reference ingest: edge-gateway MQTT batches -> PostgreSQL').showHelpAfterError();

program
  .command('ingest')
  .description('subscribe and store every reading exactly once; runs until SIGTERM/SIGINT')
  .requiredOption('--broker <url>', 'mqtt://host:1883 or mqtts://host:8883')
  .requiredOption('--database <url>', 'postgres://user@host:5432/db')
  .requiredOption('--prefix <prefix>', 'the gateways\' mqtt.topicPrefix (+ allowed)')
  .option('--group <name>', 'shared-subscription group: workers with the same group split the batches')
  .option('--client-id <id>', 'stable base of the session client ids (one per worker)', `edge-ingest-${os.hostname()}`)
  .option('--connections <n>', 'MQTT connections (and database connections) of this worker', positiveInt, 4)
  .option('--session-expiry <s>', 'seconds the broker keeps this worker\'s sessions while it is away', positiveInt, 7 * 24 * 3600)
  .option('--stats-interval <s>', 'seconds between stats lines (and ingest_stats rows)', positiveNumber, 10)
  .option('--username <name>', 'MQTT user; password from MQTT_PASSWORD')
  .option('--replay-gaps', 'ask gateways to re-send gaps that stay open (give it to one worker per group)')
  .option('--log-level <level>', 'pino level', 'info')
  .action(async (o: { broker: string; database: string; prefix: string; group?: string; clientId: string; connections: number; sessionExpiry: number; statsInterval: number; username?: string; replayGaps?: boolean; logLevel: string }) => {
    const log = createLogger(o.logLevel);
    const ingest = await startIngest({
      brokerUrl: o.broker,
      databaseUrl: o.database,
      prefix: o.prefix,
      ...(o.group ? { group: o.group } : {}),
      clientId: o.clientId,
      connections: o.connections,
      sessionExpiryS: o.sessionExpiry,
      statsIntervalMs: o.statsInterval * 1000,
      mqtt: o.username ? { username: o.username, password: process.env.MQTT_PASSWORD ?? '' } : {},
      ...(o.replayGaps ? { replay: {} } : {}),
      log,
    });
    log.info({ broker: o.broker, prefix: o.prefix, group: o.group ?? null, clientId: o.clientId, connections: o.connections }, 'ingest started');
    const shutdown = () => {
      ingest.stop().then(
        () => process.exit(0),
        (err: Error) => {
          log.error({ err: err.message }, 'stop failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  });

program
  .command('migrate')
  .description('apply the schema migrations (central/migrations/) and exit')
  .requiredOption('--database <url>', 'postgres://user@host:5432/db')
  .action(async (o: { database: string }) => {
    const client = new pg.Client({ connectionString: o.database });
    await client.connect();
    try {
      const applied = await migrate(client);
      process.stdout.write(applied.length === 0 ? 'schema is current\n' : `applied ${applied.join(', ')}\n`);
    } finally {
      await client.end();
    }
  });

program.parseAsync().catch((err: Error) => {
  process.stderr.write(`edge-ingest: ${err.message}\n`);
  process.exit(1);
});
