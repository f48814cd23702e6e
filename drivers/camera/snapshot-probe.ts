import { httpExchangeWithAuth, type HttpCredentials } from './http-exchange.js';
import { ProbeError, type ProbeProgress } from './probe-result.js';

export interface SnapshotProbeTarget extends HttpCredentials {
  url: string;
  allowSelfSigned: boolean;
}

/** Enough bytes for every signature we check; the rest of the image is never downloaded. */
const SNIFF_BYTES = 16;

const JPEG = Buffer.from([0xff, 0xd8, 0xff]);
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function imageKind(head: Buffer): 'jpeg' | 'png' | undefined {
  if (head.subarray(0, JPEG.length).equals(JPEG)) return 'jpeg';
  if (head.subarray(0, PNG.length).equals(PNG)) return 'png';
  return undefined;
}

/**
 * GET the snapshot URL and check it is really an image: a camera whose encoder died often still
 * serves an HTML error page with status 200. Only the first bytes are read, so a multi-megabyte
 * frame does not cross a metered cabinet uplink every interval.
 */
export async function snapshotProbe(
  target: SnapshotProbeTarget,
  signal: AbortSignal,
  progress: ProbeProgress,
): Promise<void> {
  const reply = await httpExchangeWithAuth(
    new URL(target.url),
    {
      method: 'GET',
      signal,
      progress,
      limitBytes: SNIFF_BYTES,
      truncate: true,
      rejectUnauthorized: !target.allowSelfSigned,
      what: 'snapshot',
    },
    target,
  );
  if (reply.status === 401) {
    throw new ProbeError('AUTH_REQUIRED', 'snapshot: camera requires credentials and none are configured', true);
  }
  if (reply.status !== 200) throw new ProbeError('SNAPSHOT_HTTP_STATUS', `snapshot: HTTP ${reply.status}`, true);
  const type = String(reply.headers['content-type'] ?? '');
  if (!/^image\//i.test(type)) {
    throw new ProbeError('SNAPSHOT_NOT_IMAGE', `snapshot: content-type ${JSON.stringify(type.slice(0, 60))} is not image/*`, true);
  }
  if (!imageKind(reply.body)) {
    throw new ProbeError('SNAPSHOT_NOT_IMAGE', `snapshot: body is neither JPEG nor PNG (first bytes ${reply.body.subarray(0, 4).toString('hex')})`, true);
  }
}
