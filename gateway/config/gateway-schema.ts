import { z } from 'zod';
import { idSchema } from '../../drivers/device-schema.js';
import { privateKeyFileSchema, secretFileSchema } from '../../drivers/kit/secret-file.js';
import { COMMANDS_DEFAULTS, commandsSchema } from './commands-schema.js';
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
    caFile: z.string().optional().describe('PEM file of the CA that signed the broker\'s certificate (absolute, or relative to the config directory). Default: the system CA store. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
    certFile: z.string().optional().describe('PEM client certificate, for brokers that authenticate clients by certificate (needs keyFile). Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
    keyFile: privateKeyFileSchema.optional().describe('PEM private key of certFile (absolute, or relative to the config directory). A secret file: checked when the config loads; keep it readable only by the edge-gateway user (check-config warns otherwise). Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
    rejectUnauthorized: z.boolean().default(true).describe('Verify the broker\'s certificate against the CA and its host name. Default true; false accepts any certificate (testing only: it allows a man in the middle). Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
    servername: z.string().optional().describe('Host name to check the broker certificate against (SNI), when it differs from the URL\'s host, e.g. when connecting by IP address. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
  })
  .strict();

/**
 * A broker back from an outage is tried within this long (docs/reliability.md: used within 5 s,
 * p99, measured by `npm run bench -- --reconnect`). Against a broker that is down a refused
 * attempt costs it one TCP handshake, so a fleet retrying every 3.2-4 s is cheap.
 */
export const RECONNECT_MAX_DELAY_MS = 4_000;

const mqttSchema = z
  .object({
    /** Tried in turn with jittered backoff: a broker pair or cluster nodes for failover. */
    urls: z.array(brokerUrl).min(1).describe('Broker URLs, tried in turn with jittered backoff (a broker pair or cluster nodes for failover): mqtt://host:1883, mqtts://host:8883, ws(s)://host/path. Required. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
    /** Becomes the first levels of every topic: an MQTT topic name, so no wildcards, no NUL. */
    topicPrefix: z
      .string()
      .min(1)
      // eslint-disable-next-line no-control-regex
      .regex(/^[^\u0000-\u001f\u007f-\u009f]*$/, 'no control characters (NUL, newline, escape...)')
      .regex(/^[^#+]*$/, 'no wildcards (#, +)')
      .regex(/^\S*$/, 'no spaces')
      .regex(/^[^$]/, 'must not start with $ (reserved for broker topics such as $SYS)')
      .default('edge')
      .describe('First topic level(s): readings go to <topicPrefix>/<gateway.id>/telemetry and /events. No # + spaces or control characters, no leading $. Default edge. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
    clientId: z.string().min(1).max(128).optional().describe('MQTT client id (1-128 chars). Default: edge-gateway-<gateway.id>. Must be stable: the broker keeps the persistent session (queued QoS 1 messages) under it. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
    username: z.string().optional().describe('Broker user name. Omit for anonymous brokers. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
    password: z.string().optional().describe('Broker password, inline. Prefer passwordFile so the secret stays out of files people copy; set one or the other, not both. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
    passwordFile: secretFileSchema.optional().describe('File whose first line is the broker password (absolute, or relative to the config directory); a regular file of at most 4 KiB, not empty. Should be readable only by the edge-gateway user; check-config and doctor warn otherwise. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
    keepalive: durationSchema.default(15_000).describe('MQTT keepalive: how often the link is checked when idle; a dead link is noticed after about 1.5x this. Milliseconds or a duration such as 15s. Default 15s. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
    connectTimeout: durationSchema.default(10_000).describe('How long one connection attempt (TCP + TLS + CONNACK) may take before the next URL is tried. Milliseconds or a duration such as 10s. Default 10s. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
    reconnect: z
      .object({
        minDelay: durationSchema.default(500).describe('Wait before the first reconnection attempt, doubling per failed attempt up to maxDelay. Milliseconds or a duration. Default 500ms. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
        maxDelay: durationSchema.default(RECONNECT_MAX_DELAY_MS).describe('Longest wait between reconnection attempts, so also the longest a returning broker waits to be used. Milliseconds or a duration. Default 4s. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
      })
      .strict()
      .default({ minDelay: 500, maxDelay: RECONNECT_MAX_DELAY_MS }).describe('Backoff between reconnection attempts: doubling from minDelay to maxDelay, each wait jittered by +-20 % (never above maxDelay) so many gateways do not reconnect in lockstep; the next attempt shows in status. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
    tls: tlsSchema.optional().describe('TLS settings for mqtts:// and wss:// URLs. Omit for the system CA store and full verification. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
  })
  .strict()
  .refine((m) => !(m.password !== undefined && m.passwordFile !== undefined), {
    message: 'set password or passwordFile, not both',
    path: ['passwordFile'],
  });

/** The group-commit window when `outbox.commitInterval` is not set (the benchmark's I/O floor copies it). */
export const DEFAULT_COMMIT_INTERVAL_MS = 50;

const outboxSchema = z
  .object({
    /** Relative paths are relative to the config directory. */
    path: z.string().default('/var/lib/edge-gateway/outbox.db').describe('SQLite outbox file (WAL). Relative paths are relative to the config directory. Default /var/lib/edge-gateway/outbox.db. Moving it starts an empty outbox: drain the old one first. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.').meta(RESTART_ONLY),
    /** `strict` fsyncs every group commit; `normal` survives crashes, and after a power cut declares what it lost (outbox.skipped). */
    durability: z.enum(['normal', 'strict']).default('normal').describe('normal: survives a crash of the process; after a power cut the last un-synced commits (never published) may be lost, and the seqs skipped are declared by an outbox.skipped event (little SD-card wear). strict: fsync every group commit, survives power cuts, more writes. Default normal. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.').meta(RESTART_ONLY),
    /** Group commit window: a crash can lose at most this much of not-yet-committed readings. */
    commitInterval: durationSchema.default(DEFAULT_COMMIT_INTERVAL_MS).describe(`Group-commit window: readings are written to disk together at most this often; a crash can lose at most this much of not-yet-committed readings. Milliseconds or a duration. Default ${DEFAULT_COMMIT_INTERVAL_MS}ms. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.`).meta(RESTART_ONLY),
    commitMaxReadings: z.number().int().min(1).max(100_000).default(10_000).describe('A group commit happens early once this many readings are waiting. Default 10000. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.').meta(RESTART_ONLY),
    rowMaxReadings: z.number().int().min(1).max(10_000).default(500).describe('Readings stored together in one outbox row (and so sent together in at most one MQTT message). Default 500. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.').meta(RESTART_ONLY),
    retention: z
      .object({
        maxBytes: sizeSchema.default(512e6).describe('Largest outbox (database bytes) before the oldest readings are dropped. Bytes or a size such as 512MB. Default 512MB. A reload (edge-gateway reload, SIGHUP) applies it.'),
        maxAge: durationSchema.default(7 * 86400e3).describe('Readings older than this are dropped unsent. Milliseconds or a duration such as 7d. Default 7d. A reload (edge-gateway reload, SIGHUP) applies it.'),
      })
      .strict()
      .default({ maxBytes: 512e6, maxAge: 7 * 86400e3 }).describe('Bounds on the outbox: when one is hit, the oldest telemetry is dropped first (events last), and every drop is counted and reported upstream. A reload (edge-gateway reload, SIGHUP) applies it.'),
    /** Acknowledged readings kept so a range the broker lost can be re-sent on request (replay). */
    keepAcked: durationSchema.default(10 * 60e3).describe('How long readings the broker acknowledged are kept so that a seq range it lost (a broker crash without persistence) can be re-sent when the central side asks (docs/commands.md, replay). They count against retention.maxBytes and maxFileBytes and are the first thing dropped when room is needed; dropping them is never reported as a loss. Milliseconds or a duration; 0 = keep nothing. Default 10min. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.').meta(RESTART_ONLY),
    keepAckedMaxBytes: sizeSchema.default(32 * 1024 * 1024).describe('Most bytes of acknowledged readings kept for replay (see keepAcked). Bytes or a size. Default 32MiB. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.').meta(RESTART_ONLY),
    /** Disk space held back beside the outbox so a full disk can still be drained (0 = none). */
    reserveBytes: sizeSchema.default(4 * 1024 * 1024).describe('Disk space held back beside the outbox so that a full disk can still be drained (SQLite needs space to delete). Bytes or a size; 0 = none. Default 4MiB. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.').meta(RESTART_ONLY),
    /** Hard cap on the database file; readings beyond it are refused and counted. */
    maxFileBytes: sizeSchema.optional().describe('Hard cap on the database file; readings beyond it are refused and counted. Bytes or a size. Default: no cap (retention.maxBytes still applies). Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.').meta(RESTART_ONLY),
  })
  .strict();

const forwardSchema = z
  .object({
    batchMaxReadings: z.number().int().min(1).max(100_000).default(5_000).describe('Most readings in one MQTT message. Default 5000. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
    batchMaxBytes: sizeSchema.default(512 * 1024).describe('Largest MQTT message payload; keep it under the broker\'s message_size_limit. Bytes or a size. Default 512KiB. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
    /** Hold a telemetry batch that is not full up to this long for more readings (0 = send at once). */
    batchMaxWait: durationSchema.default(0).describe('Hold a telemetry batch that is not full up to this long for more readings (0 = send at once). Trades latency for fewer, larger messages. Milliseconds or a duration. Default 0. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
    /** Batches awaiting PUBACK at once; order is kept regardless. */
    inflightWindow: z.number().int().min(1).max(256).default(8).describe('Batches awaiting PUBACK at once (1-256); order is kept regardless. Larger drains a backlog faster over high-latency links, and is the most that is re-sent after a reconnect. Default 8. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
    /** 2 = poll records (docs/payload.md): a good poll travels as one record instead of a JSON object per value. */
    payloadVersion: z.union([z.literal(1), z.literal(2)]).default(2).describe('Payload format of telemetry and events batches (docs/payload.md). 2: a good poll of a device travels as one record (first seq, layout id, timestamp, array of values) and point names once per batch: a few bytes per value instead of ~110. 1: one JSON object per reading, for subscribers written before v2 (gateways before 0.2.0 sent 1 by default). Readings are encoded when committed, so after a switch a backlog committed in the other version is still sent in it. A record is never split, so with 2 an outbox row and a message may exceed rowMaxReadings and batchMaxReadings by up to one record (one Modbus request: at most 125 registers or 2,000 bits). Default 2 (since 0.2.0: measured in docs/benchmarks.md, "Bytes per value"). Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
    /** zstd: each telemetry and events batch is one zstd frame (docs/payload.md#compression). */
    compression: z.enum(['none', 'zstd']).default('zstd').describe('Compress each telemetry and events batch on the wire: zstd (one zstd frame per message, told apart from JSON by its first bytes; status and health stay JSON) or none (plain JSON, for subscribers that cannot inflate; gateways before 0.2.0 sent none by default). Subscribers inflate it as docs/payload.md#compression says; the reference subscriber and ingest do. Default zstd (since 0.2.0). Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
  })
  .strict();

/** An IANA time zone this Node knows (Intl throws RangeError for any other). */
function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const siteObjectSchema = z
  .object({
    id: z.string().min(1).max(128).optional().describe('The site\'s id in your asset register (e.g. an intersection number).'),
    name: z.string().min(1).max(256).optional().describe('Human-readable site name.'),
    latitude: z.number().min(-90).max(90).optional().describe('WGS 84 latitude, decimal degrees.'),
    longitude: z.number().min(-180).max(180).optional().describe('WGS 84 longitude, decimal degrees.'),
    timeZone: z.string().refine(isTimeZone, 'not an IANA time zone (e.g. Europe/Berlin)').optional().describe('IANA time zone of the site (e.g. Europe/Berlin). Payload timestamps stay UTC; this is for people reading local time.'),
  })
  .strict()
  .refine((x) => (x.latitude === undefined) === (x.longitude === undefined), 'give latitude and longitude together');

/** A bare string is the older form: a site name. Normalised to the object form once, here. */
const siteSchema = z.union([z.string().min(1).transform((name) => ({ name })), siteObjectSchema]);
export type SiteConfig = z.output<typeof siteObjectSchema>;

export const gatewayFileSchema = z
  .object({
    gateway: z
      .object({
        id: idSchema.describe('This gateway\'s id: the second topic level and the `gateway` of every payload. Letters, digits and _ . : - (max 64). Required; changing it changes the topics central systems subscribe to. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
        site: siteSchema.optional().describe('Where this gateway is, carried in the status and health messages for central systems: either a free-text site name (e.g. the intersection or car park), or { id, name, latitude, longitude, timeZone }. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
      })
      .strict().describe('Who this gateway is. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.').meta(RESTART_ONLY),
    mqtt: mqttSchema.describe('The MQTT broker readings are forwarded to (QoS 1, persistent session). Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.').meta(RESTART_ONLY),
    outbox: outboxSchema.default(outboxSchema.parse({})).describe('The durable SQLite outbox every reading is committed to before it is sent. path/durability/commit settings need a restart; retention is applied by a reload.'),
    forward: forwardSchema.default(forwardSchema.parse({})).describe('How readings are batched into MQTT messages. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.').meta(RESTART_ONLY),
    health: z
      .object({
        interval: durationSchema.default(10_000).describe('How often the health message (queue depth, drops, device states) is published. Milliseconds or a duration. Default 10s. A reload (edge-gateway reload, SIGHUP) applies it.'),
      })
      .strict()
      .default({ interval: 10_000 }).describe('The retained health message on <topicPrefix>/<gateway.id>/health. A reload (edge-gateway reload, SIGHUP) applies it.'),
    /** Bounds on a driver's start() and stop(): one that hangs is marked down and abandoned. */
    drivers: z
      .object({
        startTimeout: durationSchema.default(30_000).describe('Longest a driver\'s start() may take; past it the device is down (DRIVER_START_TIMEOUT) and the instance abandoned, its late readings dropped and counted. Milliseconds or a duration. Default 30s. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
        stopTimeout: durationSchema.default(10_000).describe('Longest a driver\'s stop() may take before it is abandoned (DRIVER_STOP_TIMEOUT) so reload and shutdown go on. Milliseconds or a duration. Default 10s. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
      })
      .strict()
      .default({ startTimeout: 30_000, stopTimeout: 10_000 })
      .describe('Bounds on how long one driver may hold up start-up, reload and shutdown. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.').meta(RESTART_ONLY),
    /** Local control socket for `edge-gateway status`, `tail`, `reload`. */
    control: z
      .object({
        socket: z.string().default('/run/edge-gateway/control.sock').describe('Path of the control socket (group edge-gateway-ops). Default /run/edge-gateway/control.sock. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
        actuateSocket: z.string().default('/run/edge-gateway/actuate.sock').describe('Path of the actuate socket: edge-gateway write and pulse (commissioning a barrier) go here, never through the control socket. Mode 0660, group actuateGroup. Default /run/edge-gateway/actuate.sock. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
        actuateGroup: z.string().default('edge-gateway-actuate').describe('Group given the actuate socket: moving equipment is a bigger right than reading status, so it is separate from edge-gateway-ops. If the group does not exist the socket stays owner-only. Default edge-gateway-actuate. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
        /** Connections served at once (tail sessions included); more are refused with a message. */
        maxConnections: z.number().int().min(1).max(1024).default(32).describe('Control connections open at once (tail sessions included). At the limit the oldest connection that has not sent its request yet is closed (EVICTED) to make room; only when every one is being served is a new one refused with TOO_MANY_CONNECTIONS. Default 32. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
        /** A client must send its whole request line within this; a half-sent line is cut off. */
        requestTimeout: durationSchema.default(5000).describe('A client must send its whole request line within this, counted from its first byte (a connection that sends nothing: from accept); it is a deadline, not an idle timer, so trickling bytes does not extend it. A late line is answered REQUEST_TIMEOUT and closed. Milliseconds or a duration. Default 5s. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
      })
      .strict()
      .default({ socket: '/run/edge-gateway/control.sock', actuateSocket: '/run/edge-gateway/actuate.sock', actuateGroup: 'edge-gateway-actuate', maxConnections: 32, requestTimeout: 5000 })
      .describe('Local control socket for edge-gateway status, tail, reload. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.').meta(RESTART_ONLY),
    commands: commandsSchema.default(COMMANDS_DEFAULTS),
    /** How to tell whether the system clock is synchronised (see gateway/clock.ts). */
    clock: z
      .object({
        syncCheck: z.enum(['auto', 'timesyncd', 'none']).default('auto').describe('auto: use timesyncd\'s flag file when timesyncd runs here (the directory of syncedFile exists), else trust the clock; timesyncd: require syncedFile; none: never check. Default auto. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
        syncedFile: z.string().default('/run/systemd/timesync/synchronized').describe('File systemd-timesyncd creates once the clock is synchronised. Default /run/systemd/timesync/synchronized. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
        jumpThreshold: durationSchema.default(5000).describe('A wall-clock step larger than this (e.g. NTP correcting a Pi that booted without an RTC) is logged and reported as an event. Milliseconds or a duration. Default 5s. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.'),
      })
      .strict()
      .default({ syncCheck: 'auto', syncedFile: '/run/systemd/timesync/synchronized', jumpThreshold: 5000 }).describe('How to tell whether the system clock is synchronised; readings taken while it is not are flagged. Applied on restart (systemctl restart edge-gateway); a reload keeps the running value.').meta(RESTART_ONLY),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info').describe('Least severe level logged: fatal, error, warn, info, debug, trace. Default info; debug logs every poll. A reload (edge-gateway reload, SIGHUP) applies it.'),
      })
      .strict()
      .default({ level: 'info' }).describe('Logging to stdout (NDJSON, journald). A reload (edge-gateway reload, SIGHUP) applies it.'),
  })
  .strict();

export type GatewayFile = z.output<typeof gatewayFileSchema>;
