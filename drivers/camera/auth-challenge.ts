import { createHash, randomBytes } from 'node:crypto';

/** One challenge from a WWW-Authenticate header (RTSP and HTTP use the same syntax). */
export interface AuthChallenge {
  scheme: string; // lower-cased: 'digest', 'basic'
  params: Record<string, string>; // keys lower-cased
}

const MAX_HEADER_CHARS = 4096;

/**
 * Parse WWW-Authenticate header values. A value may hold several challenges separated by commas
 * (`Digest realm="a", nonce="b", Basic realm="a"`), so a new challenge starts wherever a token
 * is followed by whitespace instead of `=`. Anything unparseable ends that header's challenges.
 */
export function parseAuthChallenges(values: readonly string[]): AuthChallenge[] {
  const out: AuthChallenge[] = [];
  for (const raw of values) {
    const s = raw.slice(0, MAX_HEADER_CHARS);
    let i = 0;
    let current: AuthChallenge | undefined;
    const skipWs = (): void => {
      while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === ',')) i++;
    };
    const token = (): string => {
      const m = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/.exec(s.slice(i));
      if (!m) return '';
      i += m[0].length;
      return m[0];
    };
    for (;;) {
      skipWs();
      if (i >= s.length) break;
      const name = token();
      if (name === '') break;
      while (s[i] === ' ' || s[i] === '\t') i++;
      if (s[i] !== '=') {
        current = { scheme: name.toLowerCase(), params: {} };
        out.push(current);
        continue;
      }
      i++; // '='
      while (s[i] === ' ' || s[i] === '\t') i++;
      let value = '';
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i];
          i++;
        }
        i++; // closing quote
      } else {
        value = token();
        // token68 (Basic/Negotiate blobs) may end in '=' padding
        while (s[i] === '=') {
          value += '=';
          i++;
        }
      }
      if (current) current.params[name.toLowerCase()] = value;
    }
  }
  return out;
}

export interface AuthRequest {
  username: string;
  password: string;
  method: string;
  uri: string;
  /** Request counter for this nonce; the caller bumps it when reusing a nonce. */
  nc: number;
}

const digestHashes: Record<string, string> = {
  md5: 'md5',
  'md5-sess': 'md5',
  'sha-256': 'sha256',
  'sha-256-sess': 'sha256',
};

/** Strongest scheme the camera offers that we can do: Digest SHA-256, then Digest MD5, then Basic. */
export function chooseChallenge(challenges: readonly AuthChallenge[]): AuthChallenge | undefined {
  const digests = challenges.filter(
    (c) => c.scheme === 'digest' && (c.params.algorithm ?? 'MD5').toLowerCase() in digestHashes && c.params.nonce,
  );
  const sha = digests.find((c) => (c.params.algorithm ?? '').toLowerCase().startsWith('sha-256'));
  return sha ?? digests[0] ?? challenges.find((c) => c.scheme === 'basic');
}

function quote(v: string): string {
  return `"${v.replace(/(["\\])/g, '\\$1')}"`;
}

/** Authorization header value answering `challenge` (RFC 7616 Digest / RFC 7617 Basic). */
export function authorizationHeader(challenge: AuthChallenge, req: AuthRequest): string {
  if (challenge.scheme === 'basic') {
    return `Basic ${Buffer.from(`${req.username}:${req.password}`, 'utf8').toString('base64')}`;
  }
  const p = challenge.params;
  const algorithm = p.algorithm ?? 'MD5';
  const hashName = digestHashes[algorithm.toLowerCase()] ?? 'md5';
  const h = (s: string): string => createHash(hashName).update(s, 'utf8').digest('hex');
  const realm = p.realm ?? '';
  const nonce = p.nonce ?? '';
  const cnonce = randomBytes(8).toString('hex');
  const nc = req.nc.toString(16).padStart(8, '0');
  let ha1 = h(`${req.username}:${realm}:${req.password}`);
  if (algorithm.toLowerCase().endsWith('-sess')) ha1 = h(`${ha1}:${nonce}:${cnonce}`);
  const ha2 = h(`${req.method}:${req.uri}`);
  // qop may list several options ("auth,auth-int"); we only ever send bodiless requests as "auth".
  const qops = (p.qop ?? '').split(',').map((q) => q.trim().toLowerCase());
  const useQop = qops.includes('auth');
  const response = useQop ? h(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`) : h(`${ha1}:${nonce}:${ha2}`);
  const parts = [
    `username=${quote(req.username)}`,
    `realm=${quote(realm)}`,
    `nonce=${quote(nonce)}`,
    `uri=${quote(req.uri)}`,
    `response=${quote(response)}`,
    `algorithm=${algorithm}`,
  ];
  if (p.opaque !== undefined) parts.push(`opaque=${quote(p.opaque)}`);
  if (useQop) parts.push('qop=auth', `nc=${nc}`, `cnonce=${quote(cnonce)}`);
  return `Digest ${parts.join(', ')}`;
}
