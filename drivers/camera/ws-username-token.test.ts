import { describe, expect, it } from 'vitest';
import { passwordDigest, usernameTokenHeader } from './ws-username-token.js';

describe('WS-UsernameToken PasswordDigest', () => {
  it('matches the worked example in the ONVIF Application Programmer\'s Guide', () => {
    const nonce = Buffer.from('LKqI6G/AikKCQrN0zqZFlg==', 'base64');
    expect(passwordDigest(nonce, '2010-09-16T07:50:45Z', 'userpassword')).toBe('tuOSpGlFlIXsozq4HFNeeGeFLEI=');
  });

  it('builds a header whose digest verifies with its own nonce and created, with XML-escaped username', () => {
    const xml = usernameTokenHeader('a<b', 'pw', new Date('2024-05-01T10:00:00.123Z'));
    expect(xml).toContain('<wsse:Username>a&lt;b</wsse:Username>');
    const created = /<wsu:Created>([^<]+)</.exec(xml)![1]!;
    expect(created).toBe('2024-05-01T10:00:00Z');
    const nonce = Buffer.from(/<wsse:Nonce[^>]*>([^<]+)</.exec(xml)![1]!, 'base64');
    expect(nonce).toHaveLength(16);
    const digest = /#PasswordDigest">([^<]+)</.exec(xml)![1]!;
    expect(digest).toBe(passwordDigest(nonce, created, 'pw'));
    expect(xml).not.toContain('>pw<');
  });
});
