import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { deviceBaseSchema } from '../device-schema.js';
import { secretFromFileText } from '../kit/secret-file.js';
import { Secret } from './secret.js';

const portSchema = z.number().int().min(1).max(65535);
const timeoutSchema = z.number().int().min(50).max(60_000);

/** Credentials in URLs end up in logs and error messages; they belong in username/password. */
function hasNoUserInfo(raw: string): boolean {
  try {
    const u = new URL(raw);
    return u.username === '' && u.password === '';
  } catch {
    return true; // the url() check reports the syntax problem
  }
}

const pathSchema = z
  .string()
  .max(1024)
  .regex(/^\/[\x21-\x7e]*$/, 'must start with / and contain no spaces or control characters');

const tcpProbeSchema = z
  .object({
    port: portSchema.default(554),
    timeoutMs: timeoutSchema.default(2000),
  })
  .strict();

const rtspProbeSchema = z
  .object({
    port: portSchema.default(554),
    /** Stream path on the camera, e.g. /Streaming/Channels/101. */
    path: pathSchema.default('/'),
    timeoutMs: timeoutSchema.default(3000),
  })
  .strict();

const onvifProbeSchema = z
  .object({
    port: portSchema.default(80),
    path: pathSchema.default('/onvif/device_service'),
    /** Plain http is what nearly every camera serves ONVIF on; https where the camera supports it. */
    https: z.boolean().default(false),
    timeoutMs: timeoutSchema.default(3000),
  })
  .strict();

const snapshotProbeSchema = z
  .object({
    url: z
      .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
      .refine(hasNoUserInfo, 'must not contain user:password; use username and password/passwordFile'),
    /** Many cameras ship self-signed certificates; accept them only when explicitly asked. */
    allowSelfSigned: z.boolean().default(false),
    timeoutMs: timeoutSchema.default(3000),
  })
  .strict();

export const cameraProbesSchema = z
  .object({
    tcp: tcpProbeSchema.optional(),
    rtsp: rtspProbeSchema.optional(),
    onvif: onvifProbeSchema.optional(),
    snapshot: snapshotProbeSchema.optional(),
  })
  .strict()
  .refine((p) => Object.values(p).some((v) => v !== undefined), 'configure at least one probe');

/** Read once while config loads, so a missing or unreadable file is a config error, not a runtime one. */
const passwordFileSchema = z
  .string()
  .min(1)
  .transform((path, ctx) => {
    try {
      const firstLine = secretFromFileText(readFileSync(path, 'utf8'));
      if (firstLine !== '') return new Secret(firstLine);
      ctx.addIssue({ code: 'custom', message: `password file ${path} is empty` });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EREAD';
      ctx.addIssue({ code: 'custom', message: `cannot read password file ${path} (${code})` });
    }
    return z.NEVER;
  });

/**
 * Camera device config. Passwords (inline or from `passwordFile`) become Secrets while the config
 * is parsed, so the rest of the gateway can log the config object without leaking them. Stays a
 * plain strict ZodObject (field transforms only) so the registry's discriminated union and the
 * JSON Schema generator can see its shape.
 */
export const cameraDeviceSchema = deviceBaseSchema
  .extend({
    type: z.literal('camera'),
    /** Camera address: IPv4/IPv6 literal or DNS name. */
    host: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[A-Za-z0-9.:-]+$/, 'must be a host name or IP address (no scheme, port or path)'),
    intervalMs: z.number().int().min(1000).max(3_600_000).default(30_000),
    /** Consecutive evaluations that must disagree with the reported state before it changes. */
    flapThreshold: z.number().int().min(1).max(100).default(3),
    username: z.string().min(1).max(128).regex(/^[^:\r\n]*$/, 'must not contain : or line breaks').optional(),
    password: z
      .string()
      .min(1)
      .max(256)
      .transform((p) => new Secret(p))
      .optional(),
    /** Absolute path of a file whose first line is the password. */
    passwordFile: passwordFileSchema.optional(),
    probes: cameraProbesSchema,
  })
  .strict()
  .superRefine((cfg, ctx) => {
    if (cfg.password !== undefined && cfg.passwordFile !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'set either password or passwordFile, not both', path: ['passwordFile'] });
    }
    if ((cfg.password !== undefined || cfg.passwordFile !== undefined) && cfg.username === undefined) {
      ctx.addIssue({ code: 'custom', message: 'a password needs a username', path: ['username'] });
    }
  });

export type CameraDeviceConfig = z.output<typeof cameraDeviceSchema>;
/** The camera password, from whichever of password/passwordFile was set. */
export function cameraPassword(cfg: CameraDeviceConfig): Secret | undefined {
  return cfg.password ?? cfg.passwordFile;
}

export type CameraProbesConfig = CameraDeviceConfig['probes'];
export type ProbeName = keyof CameraProbesConfig;
export const probeNames: readonly ProbeName[] = ['tcp', 'rtsp', 'onvif', 'snapshot'];
