import { chooseChallenge, parseAuthChallenges, type AuthChallenge } from './auth-challenge.js';
import { ProbeError } from './probe-result.js';

export interface AuthChoiceContext {
  /** Label for messages, e.g. "DESCRIBE" or "snapshot". */
  what: string;
  /** The protocol the answer would travel over, for the message ("rtsp", "http"). */
  transport: string;
  /** Basic may be sent: the device file says allowBasicAuth, or the connection is TLS. */
  basicAllowed: boolean;
}

/**
 * The challenge to answer from a 401's WWW-Authenticate values. Basic is base64 of user:password,
 * i.e. the password in clear to anyone on the cabinet network, so it is only answered where the
 * device file allows it or TLS protects it; otherwise the probe fails with a reason that says why.
 */
export function challengeToAnswer(values: readonly string[], ctx: AuthChoiceContext): AuthChallenge {
  const challenge = chooseChallenge(parseAuthChallenges(values));
  if (!challenge) throw new ProbeError('AUTH_REJECTED', `${ctx.what}: 401 without a Digest or Basic challenge`, true);
  if (challenge.scheme === 'basic' && !ctx.basicAllowed) {
    throw new ProbeError(
      'AUTH_BASIC_REFUSED',
      `${ctx.what}: camera offers only Basic auth, which would send the password in clear over ${ctx.transport}; not sent (set allowBasicAuth: true in the device file to permit it${ctx.transport === 'http' ? ', or use https' : ''})`,
      true,
    );
  }
  return challenge;
}
