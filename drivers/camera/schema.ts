import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { deviceBaseSchema } from '../device-schema.js';
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

const rawCameraSchema = deviceBaseSchema
  .extend({
    type: z.literal('camera'),
    /** Camera address: IPv4/IPv6 literal or DNS name. */
    host: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[A-Za-z0-9.:-]+$/, 'must be a host name or IP address (no scheme, port or path)'),
    intervalMs: z.number().int().min(1000).max(3_600_000).default(30_000),
    /** Consecutive identical evaluations needed before the reported state changes. */
    flapThreshold: z.number().int().min(1).max(100).default(3),
    username: z.string().min(1).max(128).regex(/^[^:\r\n]*$/, 'must not contain : or line breaks').optional(),
    password: z.string().min(1).max(256).optional(),
    /** File holding the password (first line); read once when config loads. */
    passwordFile: z.string().min(1).optional(),
    probes: cameraProbesSchema,
  })
  .strict();

/**
 * Camera device config. The password (inline or from `passwordFile`) is wrapped in a Secret while
 * the config is loaded, so the rest of the gateway can log the config object without leaking it.
 */
export const cameraDeviceSchema = rawCameraSchema.transform((cfg, ctx) => {
  const { password, passwordFile, ...rest } = cfg;
  if (password !== undefined && passwordFile !== undefined) {
    ctx.addIssue({ code: 'custom', message: 'set either password or passwordFile, not both', path: ['passwordFile'] });
    return z.NEVER;
  }
  let secret: Secret | undefined;
  if (password !== undefined) secret = new Secret(password);
  if (passwordFile !== undefined) {
    try {
      const firstLine = readFileSync(passwordFile, 'utf8').split(/\r?\n/, 1)[0] ?? '';
      if (firstLine === '') throw Object.assign(new Error('file is empty'), { code: 'EMPTY' });
      secret = new Secret(firstLine);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EREAD';
      ctx.addIssue({
        code: 'custom',
        message: `cannot read password file ${passwordFile}: ${code}`,
        path: ['passwordFile'],
      });
      return z.NEVER;
    }
  }
  if (secret !== undefined && cfg.username === undefined) {
    ctx.addIssue({ code: 'custom', message: 'a password needs a username', path: ['username'] });
    return z.NEVER;
  }
  return { ...rest, password: secret };
});

export type CameraDeviceConfig = z.output<typeof cameraDeviceSchema>;
export type CameraProbesConfig = CameraDeviceConfig['probes'];
export type ProbeName = keyof CameraProbesConfig;
export const probeNames: readonly ProbeName[] = ['tcp', 'rtsp', 'onvif', 'snapshot'];
