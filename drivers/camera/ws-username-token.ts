import { createHash, randomBytes } from 'node:crypto';

export function xmlEscape(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** PasswordDigest = Base64(SHA1(nonce + created + password)), nonce as raw bytes (WSS UsernameToken Profile 1.0). */
export function passwordDigest(nonce: Buffer, created: string, password: string): string {
  return createHash('sha1').update(Buffer.concat([nonce, Buffer.from(created, 'utf8'), Buffer.from(password, 'utf8')])).digest('base64');
}

/**
 * WS-Security header with a UsernameToken. `created` should be in the camera's clock (ONVIF
 * devices reject tokens too far from their own time), hence the caller passes it in.
 */
export function usernameTokenHeader(username: string, password: string, created: Date): string {
  const nonce = randomBytes(16);
  // xsd:dateTime without milliseconds: some firmwares reject fractional seconds.
  const createdText = created.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return (
    '<wsse:Security s:mustUnderstand="1" ' +
    'xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" ' +
    'xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">' +
    '<wsse:UsernameToken>' +
    `<wsse:Username>${xmlEscape(username)}</wsse:Username>` +
    '<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">' +
    `${passwordDigest(nonce, createdText, password)}</wsse:Password>` +
    '<wsse:Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">' +
    `${nonce.toString('base64')}</wsse:Nonce>` +
    `<wsu:Created>${createdText}</wsu:Created>` +
    '</wsse:UsernameToken></wsse:Security>'
  );
}
