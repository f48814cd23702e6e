const REDACTED = '[redacted]';

/**
 * Scrubs credentials out of text that came from the network or from error objects before it
 * reaches a log line, a reading or status(): the password itself, the Basic-auth blob that
 * encodes it, and any user:password@ in a URL.
 */
export function makeRedactor(username: string | undefined, password: string | undefined): (text: string) => string {
  const secrets: string[] = [];
  if (password !== undefined && password !== '') {
    secrets.push(password, encodeURIComponent(password));
    if (username !== undefined) secrets.push(Buffer.from(`${username}:${password}`, 'utf8').toString('base64'));
  }
  // Longest first so a secret that contains another is removed whole.
  secrets.sort((a, b) => b.length - a.length);
  return (text: string): string => {
    let out = text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, `$1${REDACTED}@`);
    for (const s of secrets) out = out.split(s).join(REDACTED);
    return out;
  };
}
