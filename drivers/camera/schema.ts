import { z } from 'zod';
import { deviceBaseSchema } from '../device-schema.js';
import { secretFileSchema } from '../kit/secret-file.js';
import { Secret } from '../kit/secret.js';

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
    port: portSchema.default(554).describe('TCP port to connect to. Default 554 (RTSP).'),
    timeoutMs: timeoutSchema.default(2000).describe('Connect timeout. Milliseconds, 50-60000. Default 2000.'),
  })
  .strict();

const rtspProbeSchema = z
  .object({
    port: portSchema.default(554).describe('RTSP port. Default 554.'),
    /** Stream path on the camera, e.g. /Streaming/Channels/101. */
    path: pathSchema.default('/').describe('Stream path on the camera, e.g. /Streaming/Channels/101 (Hikvision) or /cam/realmonitor?channel=1&subtype=0 (Dahua). Default /.'),
    timeoutMs: timeoutSchema.default(3000).describe('Timeout for OPTIONS + DESCRIBE. Milliseconds, 50-60000. Default 3000.'),
  })
  .strict();

const onvifProbeSchema = z
  .object({
    port: portSchema.default(80).describe('HTTP(S) port of the ONVIF device service. Default 80.'),
    path: pathSchema.default('/onvif/device_service').describe('ONVIF device service path. Default /onvif/device_service.'),
    /** Plain http is what nearly every camera serves ONVIF on; https where the camera supports it. */
    https: z.boolean().default(false).describe('Use https for ONVIF. Plain http is what nearly every camera serves ONVIF on. Default false.'),
    timeoutMs: timeoutSchema.default(3000).describe('Timeout for the GetDeviceInformation call. Milliseconds, 50-60000. Default 3000.'),
  })
  .strict();

const snapshotProbeSchema = z
  .object({
    url: z
      .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
      .refine(hasNoUserInfo, 'must not contain user:password; use username and password/passwordFile').describe('Snapshot URL (http:// or https://), e.g. http://cam/ISAPI/Streaming/channels/101/picture. No user:password in it: use username and password/passwordFile. Required.'),
    /** Many cameras ship self-signed certificates; accept them only when explicitly asked. */
    allowSelfSigned: z.boolean().default(false).describe('Accept a self-signed https certificate (many cameras ship one). Default false.'),
    timeoutMs: timeoutSchema.default(3000).describe('Timeout for fetching the image. Milliseconds, 50-60000. Default 3000.'),
  })
  .strict();

export const cameraProbesSchema = z
  .object({
    tcp: tcpProbeSchema.optional().describe('TCP connect only: proves the camera is on the network, not that it streams (a camera that accepts and never answers counts as online). Use rtsp/onvif/snapshot where you can.'),
    rtsp: rtspProbeSchema.optional().describe('RTSP OPTIONS + DESCRIBE (Digest/Basic auth); the SDP must offer video. Proves the stream exists and the credentials work.'),
    onvif: onvifProbeSchema.optional().describe('ONVIF GetDeviceInformation with WS-UsernameToken. Proves the management interface answers and accepts the credentials.'),
    snapshot: snapshotProbeSchema.optional().describe('HTTP(S) GET of a snapshot URL that must return an image.'),
  })
  .strict()
  .refine((p) => Object.values(p).some((v) => v !== undefined), 'configure at least one probe');

/**
 * Camera device config. Passwords (inline or from `passwordFile`) become Secrets while the config
 * is parsed, so the rest of the gateway can log the config object without leaking them. Stays a
 * plain strict ZodObject (field transforms only) so the registry's discriminated union and the
 * JSON Schema generator can see its shape.
 */
export const cameraDeviceSchema = deviceBaseSchema
  .extend({
    type: z.literal('camera').describe('camera: CCTV status from network probes; an event on each online/degraded/offline change, latency telemetry. A change to this file is applied by `edge-gateway reload`, which restarts only this device.'),
    /** Camera address: IPv4/IPv6 literal or DNS name. */
    host: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[A-Za-z0-9.:-]+$/, 'must be a host name or IP address (no scheme, port or path)').describe('Camera address: IPv4/IPv6 literal or DNS name, without scheme, port or path. Required.'),
    intervalMs: z.number().int().min(1000).max(3_600_000).default(30_000).describe('How often all probes run. Milliseconds, 1000-3600000. Default 30000.'),
    /** Consecutive evaluations that must disagree with the reported state before it changes. */
    flapThreshold: z.number().int().min(1).max(100).default(3).describe('Consecutive evaluations that must disagree with the reported state before it changes (and an event is sent): 3 at 30 s means a blip under 90 s is not reported. Default 3.'),
    username: z.string().min(1).max(128).regex(/^[^:\r\n]*$/, 'must not contain : or line breaks').optional().describe('User for RTSP, ONVIF and snapshot auth. No : or line breaks. Needed with password/passwordFile.'),
    password: z
      .string()
      .min(1)
      .max(256)
      .transform((p) => new Secret(p))
      .optional().describe('Camera password, inline. Prefer passwordFile; never appears in logs or status.'),
    /** A file whose first line is the password; relative paths are relative to the config directory (the loader reads it from there). */
    passwordFile: secretFileSchema.optional().describe('File whose first line is the camera password: absolute, or relative to the config directory (the one holding gateway.yaml), like every path in the config, e.g. secrets/cam-entrance.pw. Read when the config loads; should be readable only by the edge-gateway user (doctor and check-config warn otherwise).'),
    /**
     * Answer a Basic auth challenge over plain RTSP/HTTP. Basic is the password in clear on the
     * cabinet network, so by default it is sent only over https and a camera that offers nothing
     * else is reported degraded (AUTH_BASIC_REFUSED). Set true only for a camera that cannot do Digest.
     */
    allowBasicAuth: z
      .boolean()
      .default(false)
      .describe('Answer a Basic auth challenge over plain RTSP/HTTP (the password in clear on the network). Default false: Basic is sent only over https, and a camera offering nothing else is degraded with AUTH_BASIC_REFUSED. Set true only for a camera that cannot do Digest.'),
    probes: cameraProbesSchema.describe('Which checks decide the camera\'s state; at least one. online = every configured probe passed; degraded = something answered but a probe failed; offline = nothing connected.'),
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
