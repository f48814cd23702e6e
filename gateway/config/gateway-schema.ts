import { z } from 'zod';
import { idSchema } from '../../drivers/device-schema.js';
import { RESTART_ONLY } from './restart-only.js';
import { durationSchema, sizeSchema } from './units.js';

/**
 * gateway.yaml: who this gateway is, where its telemetry goes and how it buffers. Every object
 * is strict so a misspelt key is an error, not a silently ignored setting.
 * Settings marked `.meta(RESTART_ONLY)` are only applied by a restart, not by a reload (SIGHUP).
 */

const brokerUrl = z
  .string()
  .regex(/^(mqtts?|wss?|tcp|ssl):\/\/[^\s/]+(\/.*)?$/, 'expected a broker URL such as mqtt://host:1883 or mqtts://host:8883');

const tlsSchema = z
  .object({
    caFile: z.string().optional(),
    certFile: z.string().optional(),
    keyFile: z.string().optional(),
    rejectUnauthorized: z.boolean().default(true),
    servername: z.string().optional(),
  })
  .strict();

const mqttSchema = z
  .object({
    /** Tried in turn with jittered backoff: a broker pair or cluster nodes for failover. */
    urls: z.array(brokerUrl).min(1),
    topicPrefix: z.string().regex(/^[^#+\s]+$/, 'no wildcards (#, +) or spaces').default('edge'),
    clientId: z.string().min(1).max(128).optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    passwordFile: z.string().optional(),
    keepalive: durationSchema.default(15_000),
    connectTimeout: durationSchema.default(10_000),
    reconnect: z
      .object({ minDelay: durationSchema.default(500), maxDelay: durationSchema.default(30_000) })
      .strict()
      .default({ minDelay: 500, maxDelay: 30_000 }),
    tls: tlsSchema.optional(),
  })
  .strict()
  .refine((m) => !(m.password !== undefined && m.passwordFile !== undefined), {
    message: 'set password or passwordFile, not both',
    path: ['passwordFile'],
  })
  .meta(RESTART_ONLY);

const outboxSchema = z
  .object({
    /** Relative paths are relative to the config directory. */
    path: z.string().default('/var/lib/edge-gateway/outbox.db').meta(RESTART_ONLY),
    /** `strict` fsyncs every group commit; `normal` survives crashes, not power cuts. */
    durability: z.enum(['normal', 'strict']).default('normal').meta(RESTART_ONLY),
    /** Group commit window: a crash can lose at most this much of not-yet-committed readings. */
    commitInterval: durationSchema.default(50).meta(RESTART_ONLY),
    commitMaxReadings: z.number().int().min(1).max(100_000).default(10_000).meta(RESTART_ONLY),
    rowMaxReadings: z.number().int().min(1).max(10_000).default(500).meta(RESTART_ONLY),
    retention: z
      .object({ maxBytes: sizeSchema.default(512e6), maxAge: durationSchema.default(7 * 86400e3) })
      .strict()
      .default({ maxBytes: 512e6, maxAge: 7 * 86400e3 }),
    /** Disk space held back beside the outbox so a full disk can still be drained (0 = none). */
    reserveBytes: sizeSchema.default(4 * 1024 * 1024).meta(RESTART_ONLY),
    /** Hard cap on the database file; readings beyond it are refused and counted. */
    maxFileBytes: sizeSchema.optional().meta(RESTART_ONLY),
  })
  .strict();

const forwardSchema = z
  .object({
    batchMaxReadings: z.number().int().min(1).max(100_000).default(5_000),
    batchMaxBytes: sizeSchema.default(512 * 1024),
    /** Hold a telemetry batch that is not full up to this long for more readings (0 = send at once). */
    batchMaxWait: durationSchema.default(0),
    /** Batches awaiting PUBACK at once; order is kept regardless. */
    inflightWindow: z.number().int().min(1).max(256).default(8),
  })
  .strict()
  .meta(RESTART_ONLY);

export const gatewayFileSchema = z
  .object({
    gateway: z.object({ id: idSchema, site: z.string().optional() }).strict().meta(RESTART_ONLY),
    mqtt: mqttSchema,
    outbox: outboxSchema.default(outboxSchema.parse({})),
    forward: forwardSchema.default(forwardSchema.parse({})),
    health: z
      .object({ interval: durationSchema.default(10_000) })
      .strict()
      .default({ interval: 10_000 }),
    /** Local control socket for `edge-gateway status`, `tail`, `reload`. */
    control: z
      .object({ socket: z.string().default('/run/edge-gateway/control.sock') })
      .strict()
      .default({ socket: '/run/edge-gateway/control.sock' })
      .meta(RESTART_ONLY),
    /** How to tell whether the system clock is synchronised (see gateway/clock.ts). */
    clock: z
      .object({
        syncCheck: z.enum(['auto', 'timesyncd', 'none']).default('auto'),
        syncedFile: z.string().default('/run/systemd/timesync/synchronized'),
        jumpThreshold: durationSchema.default(5000),
      })
      .strict()
      .default({ syncCheck: 'auto', syncedFile: '/run/systemd/timesync/synchronized', jumpThreshold: 5000 })
      .meta(RESTART_ONLY),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info') })
      .strict()
      .default({ level: 'info' }),
  })
  .strict();

export type GatewayFile = z.output<typeof gatewayFileSchema>;
