import type { DeviceError } from '../driver.js';

/**
 * node-opcua reports most failures as plain Errors whose message carries the OPC-UA status name
 * (BadUserAccessDenied ...) or a socket code (ECONNREFUSED ...). Map them onto stable codes a
 * caller can branch on; the original text stays in `message`.
 */
const byStatusName: Array<[RegExp, string]> = [
  [/BadUserAccessDenied|BadIdentityTokenRejected|BadIdentityTokenInvalid|BadUserSignatureInvalid/, 'OPCUA_AUTH_REJECTED'],
  [/BadCertificate[A-Za-z]*|certificate.*(untrusted|rejected)/i, 'OPCUA_CERTIFICATE_REJECTED'],
  [/BadSecurityPolicyRejected|BadSecurityModeRejected|BadSecurityChecksFailed|cannot find endpoint/i, 'OPCUA_SECURITY_REJECTED'],
  [/BadTooManySessions|BadTooManySubscriptions/, 'OPCUA_SERVER_LIMIT'],
  [/ECONNREFUSED|server is not reachable|Please check that the server is up/i, 'ECONNREFUSED'],
  [/ETIMEDOUT|timeout|timed out/i, 'ETIMEDOUT'],
  [/ENOTFOUND|EAI_AGAIN/, 'ENOTFOUND'],
  [/ECONNRESET|socket has been disconnected|premature socket termination/i, 'ECONNRESET'],
];

export function deviceErrorFrom(err: unknown, context: string, now = Date.now()): DeviceError {
  const text = err instanceof Error ? err.message : String(err);
  const ownCode = (err as { code?: unknown } | null)?.code;
  let code = typeof ownCode === 'string' && /^[A-Z][A-Z0-9_]+$/.test(ownCode) ? ownCode : 'OPCUA_ERROR';
  for (const [pattern, mapped] of byStatusName) {
    if (pattern.test(text)) {
      code = mapped;
      break;
    }
  }
  // node-opcua messages can span several lines with advice text; keep the first line or two.
  const brief = text.split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 2).join(' ');
  return { code, message: `${context}: ${brief}`, ts: now };
}

export class OpcuaConfigError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'OpcuaConfigError';
  }
}
