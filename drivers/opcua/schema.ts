import { z } from 'zod';
import { deviceBaseSchema, pointNameSchema } from '../device-schema.js';
import { privateKeyFileSchema, secretFileSchema } from '../kit/secret-file.js';
import { Secret } from '../kit/secret.js';
import { writablePolicySchema } from '../writable-point.js';

/**
 * OPC-UA device config. Deliberately free of node-opcua imports: the registry loads this schema
 * for every config check, while node-opcua (tens of MB) is only loaded when a device runs.
 */

// ns=<index>;<i|s|g|b>=<id> or nsu=<uri>;...; ns0 may omit the prefix (i=2258).
const nodeIdSchema = z
  .string()
  .regex(/^(?:(?:ns=\d+|nsu=[^;]+);)?[isgb]=.+$/, 'an OPC-UA node id such as ns=2;s=Counter or i=2258');

const deadbandSchema = z
  .object({
    /** `percent` is relative to the variable's EURange, so only AnalogItems support it. */
    type: z.enum(['absolute', 'percent']).describe('`absolute`: change in engineering units; `percent`: of the variable\'s EURange (AnalogItems only).'),
    value: z.number().positive().describe('Deadband size: a data change smaller than this is not reported. > 0; percent <= 100.'),
  })
  .strict();

const itemSchema = z
  .object({
    nodeId: nodeIdSchema.describe('OPC-UA node id of the variable, e.g. ns=2;s=Counter, ns=3;i=1001, nsu=urn:plc;s=Temp, or i=2258 (namespace 0).'),
    point: pointNameSchema.describe('Point name of readings from this node; unique within the device.'),
    unit: z.string().min(1).max(32).optional().describe('Unit sent with each reading (e.g. °C). Free text.'),
    samplingIntervalMs: z.number().int().min(0).max(3_600_000).default(1000).describe('How often the server samples the variable. Milliseconds, 0 = as fast as the server can. Default 1000.'),
    queueSize: z.number().int().min(1).max(1000).default(10).describe('Changes the server keeps between publishes (1-1000); more than that and the oldest are lost. Default 10.'),
    deadband: deadbandSchema.optional().describe('Report only changes larger than this. Omit to report every change.'),
  })
  .strict()
  .refine((i) => i.deadband?.type !== 'percent' || i.deadband.value <= 100, {
    message: 'percent deadband must be <= 100',
    path: ['deadband', 'value'],
  });

/** The OPC-UA built-in types a command may write; the value is sent as exactly this type. */
export const writableDataTypes = ['Boolean', 'Int16', 'UInt16', 'Int32', 'UInt32', 'Float', 'Double'] as const;

/**
 * A variable the command channel may write (docs/commands.md). The server checks its own access
 * rights and the type; the gateway sends the value as `dataType` and never converts a value that
 * type cannot hold exactly (writes.ts).
 */
const writeSchema = writablePolicySchema
  .extend({
    nodeId: nodeIdSchema.describe('OPC-UA node id of the variable to write, in the same forms as items: ns=2;s=Setpoint, ns=3;i=1001, nsu=urn:plc;s=Setpoint (resolved at every session).'),
    dataType: z.enum(writableDataTypes).describe('The variable\'s DataType as the server declares it: Boolean, Int16, UInt16, Int32, UInt32, Float or Double. A value it cannot hold exactly is refused.'),
  })
  .strict();

const authSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('anonymous').describe('No user identity.'),
    })
    .strict(),
  z
    .object({
      type: z.literal('username').describe('User name and password (sent encrypted only with securityMode Sign/SignAndEncrypt, or by the server\'s policy).'),
      username: z.string().min(1).describe('OPC-UA user name.'),
      /** Prefer `passwordFile` so the secret stays out of config files people copy around. */
      password: z
        .string()
        .min(1)
        .transform((p) => new Secret(p))
        .optional()
        .describe('Password, inline. Prefer passwordFile so the secret stays out of config files people copy around.'),
      passwordFile: secretFileSchema.optional().describe('File whose first line is the password: absolute, or relative to the config directory. Read when the config loads (a changed file takes `edge-gateway reload`); should be readable only by the edge-gateway user (doctor and check-config warn otherwise).'),
    })
    .strict()
    .refine((a) => (a.password === undefined) !== (a.passwordFile === undefined), {
      message: 'give exactly one of password or passwordFile',
    }),
  z
    .object({
      type: z.literal('certificate').describe('X.509 user certificate.'),
      certificateFile: z.string().min(1).describe('PEM or DER user certificate.'),
      privateKeyFile: privateKeyFileSchema.describe('PEM private key of certificateFile: absolute, or relative to the config directory. A secret file: checked when the config loads; should be readable only by the edge-gateway user (check-config warns otherwise).'),
    })
    .strict(),
]);

export const opcuaDeviceSchema = deviceBaseSchema
  .extend({
    type: z.literal('opcua').describe('opcua: an OPC-UA server on a PLC; a subscription reports data changes as telemetry. A change to this file is applied by `edge-gateway reload`, which restarts only this device.'),
    endpointUrl: z
      .string()
      .regex(/^opc\.tcp:\/\/[^/\s]+(?::\d+)?(?:\/\S*)?$/, 'an opc.tcp://host:port URL')
      // Credentials in URLs reach logs, status and retained health; a password may itself hold
      // @ or /, so any @ at all is refused rather than guessing where the userinfo ends.
      .refine((u) => !u.includes('@'), {
        message: 'must not contain user:password@; put credentials in auth: { type: username, username, passwordFile }',
      })
      .describe('opc.tcp://host:port[/path] of the server, without credentials (use auth). Required.'),
    securityMode: z.enum(['None', 'Sign', 'SignAndEncrypt']).default('None').describe('None, Sign or SignAndEncrypt. Anything but None needs a securityPolicy other than None. Default None.'),
    securityPolicy: z
      .enum(['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'])
      .default('None').describe('None, Basic256Sha256, Aes128_Sha256_RsaOaep or Aes256_Sha256_RsaPss; must match securityMode. Default None.'),
    auth: authSchema.prefault({ type: 'anonymous' }).describe('User identity: { type: anonymous } (default), { type: username, username, passwordFile }, or { type: certificate, certificateFile, privateKeyFile }.'),
    /** Application-instance certificate; generated (self-signed) into `pkiDir` when omitted. */
    clientCertificateFile: z.string().min(1).optional().describe('Application-instance certificate of this client. Default: a self-signed one generated into pkiDir. Give with clientPrivateKeyFile.'),
    clientPrivateKeyFile: privateKeyFileSchema.optional().describe('Private key of clientCertificateFile: absolute, or relative to the config directory. A secret file: checked when the config loads; should be readable only by the edge-gateway user (check-config warns otherwise).'),
    /** Client PKI store. Default: $STATE_DIRECTORY/opcua-pki (systemd), else opcua-pki beside the outbox. */
    pkiDir: z.string().min(1).optional().describe('Client PKI store (own certificate, trusted/ and rejected/ server certificates). Default $STATE_DIRECTORY/opcua-pki under systemd, else opcua-pki beside the outbox. Never /tmp.'),
    /** Accept a server certificate not yet in pkiDir/trusted. Off by default: move it from pkiDir/rejected. */
    trustUnknownServerCertificate: z.boolean().default(false).describe('Accept a server certificate not yet in pkiDir/trusted. Default false: move it from pkiDir/rejected to trusted instead.'),
    publishingIntervalMs: z.number().int().min(50).max(3_600_000).default(1000).describe('How often the server sends collected changes. Milliseconds, 50-3600000. Default 1000.'),
    /** Server sends a keep-alive after this many empty publishing intervals. */
    keepAliveCount: z.number().int().min(1).max(1000).default(10).describe('Server sends a keep-alive after this many empty publishing intervals; silence longer than that means the link is lost. Default 10.'),
    reconnect: z
      .object({
        initialDelayMs: z.number().int().min(100).max(600_000).default(1000).describe('First reconnect wait, doubling up to maxDelayMs. Milliseconds. Default 1000.'),
        maxDelayMs: z.number().int().min(100).max(3_600_000).default(30_000).describe('Longest reconnect wait. Milliseconds. Default 30000.'),
      })
      .strict()
      .default({ initialDelayMs: 1000, maxDelayMs: 30_000 }).describe('Backoff between reconnection attempts after the server or link is lost; the subscription is re-created.'),
    items: z.array(itemSchema).min(1).max(10_000).describe('Monitored variables, 1-10000; point names unique.'),
    writeTimeoutMs: z.number().int().min(100).max(60_000).default(5000).describe('How long a command\'s write (and its read-back) may wait for the server\'s answer. Past it the outcome is failed (OPCUA_WRITE_TIMEOUT) and the connection is dropped and rebuilt, so a write node-opcua held back cannot reach the server later. Milliseconds, 100-60000. Default 5000.'),
    writes: z.array(writeSchema).max(256).default([]).describe('Variables the command channel may write (docs/commands.md), up to 256; names unique. Nothing else on the server is written.'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if ((c.securityMode === 'None') !== (c.securityPolicy === 'None')) {
      ctx.addIssue({
        code: 'custom',
        path: ['securityPolicy'],
        message: `securityMode ${c.securityMode} needs ${c.securityMode === 'None' ? 'securityPolicy None' : 'a securityPolicy other than None'}`,
      });
    }
    if ((c.clientCertificateFile === undefined) !== (c.clientPrivateKeyFile === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['clientPrivateKeyFile'], message: 'give both clientCertificateFile and clientPrivateKeyFile, or neither' });
    }
    const seen = new Set<string>();
    c.items.forEach((item, i) => {
      if (seen.has(item.point)) {
        ctx.addIssue({ code: 'custom', path: ['items', i, 'point'], message: `duplicate point name "${item.point}"` });
      }
      seen.add(item.point);
    });
    const writeNames = new Set<string>();
    c.writes.forEach((w, i) => {
      if (writeNames.has(w.name)) ctx.addIssue({ code: 'custom', path: ['writes', i, 'name'], message: `duplicate writable point "${w.name}"` });
      writeNames.add(w.name);
    });
  });

export type OpcuaDeviceConfig = z.output<typeof opcuaDeviceSchema>;
export type OpcuaItemConfig = OpcuaDeviceConfig['items'][number];
export type OpcuaWriteConfig = OpcuaDeviceConfig['writes'][number];
