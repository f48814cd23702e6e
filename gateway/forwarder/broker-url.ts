/**
 * Broker URLs may carry credentials (mqtt://user:pass@host). Passwords are not URL-safe in
 * practice: an `@` or `/` typed as-is is common, and then the first `@` is not the end of the
 * userinfo, and Node's url.parse() (inside mqtt.js) warns on stderr with the whole URL (DEP0170).
 * So the userinfo runs up to the LAST `@`, and it is taken out before any library sees the URL.
 */

const WITH_USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^\s]*)@([^@\s]*)$/i;

/** mqtt://***@host:1883 — the whole userinfo hidden, whatever characters the password holds. */
export function redactUrl(url: string): string {
  const m = WITH_USERINFO.exec(url);
  return m ? `${m[1]}***@${m[3]}` : url;
}

export interface BrokerEndpoint {
  /** The URL without userinfo: safe to hand to mqtt.js and to show. */
  url: string;
  username?: string;
  password?: string;
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part; // a literal % in a password that was never percent-encoded
  }
}

/** Splits `scheme://user:pass@host...` into a credential-free URL and the (decoded) credentials. */
export function splitBrokerUrl(url: string): BrokerEndpoint {
  const m = WITH_USERINFO.exec(url);
  if (!m) return { url };
  const userinfo = m[2]!;
  const colon = userinfo.indexOf(':');
  const clean = `${m[1]}${m[3]}`;
  if (colon < 0) return { url: clean, username: decode(userinfo) };
  return { url: clean, username: decode(userinfo.slice(0, colon)), password: decode(userinfo.slice(colon + 1)) };
}
