import { z } from 'zod';
import { deviceBaseSchema, pointNameSchema } from '../device-schema.js';

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
    type: z.enum(['absolute', 'percent']),
    value: z.number().positive(),
  })
  .strict();

const itemSchema = z
  .object({
    nodeId: nodeIdSchema,
    point: pointNameSchema,
    unit: z.string().min(1).max(32).optional(),
    samplingIntervalMs: z.number().int().min(0).max(3_600_000).default(1000),
    queueSize: z.number().int().min(1).max(1000).default(10),
    deadband: deadbandSchema.optional(),
  })
  .strict()
  .refine((i) => i.deadband?.type !== 'percent' || i.deadband.value <= 100, {
    message: 'percent deadband must be <= 100',
    path: ['deadband', 'value'],
  });

const authSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('anonymous') }).strict(),
  z
    .object({
      type: z.literal('username'),
      username: z.string().min(1),
      /** Prefer `passwordFile` so the secret stays out of config files people copy around. */
      password: z.string().min(1).optional(),
      passwordFile: z.string().min(1).optional(),
    })
    .strict()
    .refine((a) => (a.password === undefined) !== (a.passwordFile === undefined), {
      message: 'give exactly one of password or passwordFile',
    }),
  z
    .object({
      type: z.literal('certificate'),
      certificateFile: z.string().min(1),
      privateKeyFile: z.string().min(1),
    })
    .strict(),
]);

export const opcuaDeviceSchema = deviceBaseSchema
  .extend({
    type: z.literal('opcua'),
    endpointUrl: z
      .string()
      .regex(/^opc\.tcp:\/\/[^/\s]+(?::\d+)?(?:\/\S*)?$/, 'an opc.tcp://host:port URL')
      // Credentials in URLs reach logs, status and retained health; a password may itself hold
      // @ or /, so any @ at all is refused rather than guessing where the userinfo ends.
      .refine((u) => !u.includes('@'), {
        message: 'must not contain user:password@; put credentials in auth: { type: username, username, passwordFile }',
      }),
    securityMode: z.enum(['None', 'Sign', 'SignAndEncrypt']).default('None'),
    securityPolicy: z
      .enum(['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'])
      .default('None'),
    auth: authSchema.default({ type: 'anonymous' }),
    /** Application-instance certificate; generated (self-signed) into `pkiDir` when omitted. */
    clientCertificateFile: z.string().min(1).optional(),
    clientPrivateKeyFile: z.string().min(1).optional(),
    /** Client PKI store. Default: $STATE_DIRECTORY/opcua-pki (systemd), else opcua-pki beside the outbox. */
    pkiDir: z.string().min(1).optional(),
    /** Accept a server certificate not yet in pkiDir/trusted. Off by default: move it from pkiDir/rejected. */
    trustUnknownServerCertificate: z.boolean().default(false),
    publishingIntervalMs: z.number().int().min(50).max(3_600_000).default(1000),
    /** Server sends a keep-alive after this many empty publishing intervals. */
    keepAliveCount: z.number().int().min(1).max(1000).default(10),
    reconnect: z
      .object({
        initialDelayMs: z.number().int().min(100).max(600_000).default(1000),
        maxDelayMs: z.number().int().min(100).max(3_600_000).default(30_000),
      })
      .strict()
      .default({ initialDelayMs: 1000, maxDelayMs: 30_000 }),
    items: z.array(itemSchema).min(1).max(10_000),
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
  });

export type OpcuaDeviceConfig = z.output<typeof opcuaDeviceSchema>;
export type OpcuaItemConfig = OpcuaDeviceConfig['items'][number];
