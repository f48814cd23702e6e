import { httpExchangeWithAuth, type HttpReply } from './http-exchange.js';
import { ProbeError, type DeviceInfo, type ProbeProgress, type ProbeSuccess } from './probe-result.js';
import { elementInner, elementText, hasElement } from './soap-text.js';
import { usernameTokenHeader } from './ws-username-token.js';

export interface OnvifProbeTarget {
  host: string;
  port: number;
  path: string;
  https: boolean;
  username?: string;
  password?: string;
}

const DEVICE_NS = 'http://www.onvif.org/ver10/device/wsdl';
/** Device-service replies are a few KB; anything far larger is not a camera talking ONVIF. */
const MAX_REPLY_BYTES = 64 * 1024;

export function onvifUrl(t: Pick<OnvifProbeTarget, 'host' | 'port' | 'path' | 'https'>): URL {
  const h = t.host.includes(':') ? `[${t.host}]` : t.host;
  return new URL(`${t.https ? 'https' : 'http'}://${h}:${t.port}${t.path}`);
}

function envelope(action: string, securityHeader: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">' +
    `<s:Header>${securityHeader}</s:Header>` +
    `<s:Body><${action} xmlns="${DEVICE_NS}"/></s:Body>` +
    '</s:Envelope>'
  );
}

async function call(
  t: OnvifProbeTarget,
  action: string,
  security: string,
  signal: AbortSignal,
  progress: ProbeProgress,
): Promise<string> {
  const what = `ONVIF ${action}`;
  const reply: HttpReply = await httpExchangeWithAuth(
    onvifUrl(t),
    {
      method: 'POST',
      headers: { 'Content-Type': `application/soap+xml; charset=utf-8; action="${DEVICE_NS}/${action}"` },
      body: envelope(action, security),
      signal,
      progress,
      limitBytes: MAX_REPLY_BYTES,
      what,
    },
    t,
  );
  const xml = reply.body.toString('utf8');
  if (hasElement(xml, 'Fault')) {
    const subcode = elementInner(xml, 'Subcode') ?? '';
    const text = (elementText(xml, 'Text') ?? '').slice(0, 120);
    const authFailure = /NotAuthorized|FailedAuthentication|InvalidSecurity/i.test(subcode + text);
    throw new ProbeError(
      authFailure ? 'AUTH_REJECTED' : 'ONVIF_FAULT',
      `${what}: SOAP fault${text ? ` "${text}"` : ''} (HTTP ${reply.status})`,
      true,
    );
  }
  if (reply.status === 401) throw new ProbeError('AUTH_REJECTED', `${what}: HTTP 401`, true);
  if (reply.status !== 200) throw new ProbeError('ONVIF_HTTP_STATUS', `${what}: HTTP ${reply.status}`, true);
  if (!hasElement(xml, `${action}Response`)) {
    throw new ProbeError('ONVIF_BAD_RESPONSE', `${what}: reply has no ${action}Response element`, true);
  }
  return xml;
}

/** Camera clock minus ours, from the UTCDateTime in a GetSystemDateAndTime reply. */
function clockSkewMs(xml: string, receivedAt: number): number | undefined {
  const utc = elementInner(xml, 'UTCDateTime');
  if (utc === undefined) return undefined;
  const n = (name: string): number => Number(elementText(utc, name));
  const cam = Date.UTC(n('Year'), n('Month') - 1, n('Day'), n('Hour'), n('Minute'), n('Second'));
  return Number.isFinite(cam) ? cam - receivedAt : undefined;
}

/**
 * Device service: GetSystemDateAndTime (which ONVIF requires to work unauthenticated, so it shows
 * the service is alive even with wrong credentials), then, with credentials, GetDeviceInformation
 * under a WS-UsernameToken dated in the camera's clock.
 */
export async function onvifProbe(t: OnvifProbeTarget, signal: AbortSignal, progress: ProbeProgress): Promise<ProbeSuccess> {
  const dateXml = await call(t, 'GetSystemDateAndTime', '', signal, progress);
  const skew = clockSkewMs(dateXml, Date.now());
  if (t.username === undefined || t.password === undefined) return skew === undefined ? {} : { clockSkewMs: skew };
  const security = usernameTokenHeader(t.username, t.password, new Date(Date.now() + (skew ?? 0)));
  const infoXml = await call(t, 'GetDeviceInformation', security, signal, progress);
  const info: DeviceInfo = {
    manufacturer: elementText(infoXml, 'Manufacturer') ?? '',
    model: elementText(infoXml, 'Model') ?? '',
    firmware: elementText(infoXml, 'FirmwareVersion') ?? '',
    serial: elementText(infoXml, 'SerialNumber') ?? '',
  };
  return skew === undefined ? { info } : { info, clockSkewMs: skew };
}
