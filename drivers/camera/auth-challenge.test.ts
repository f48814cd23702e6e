import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { authorizationHeader, chooseChallenge, parseAuthChallenges } from './auth-challenge.js';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

function params(header: string): Record<string, string> {
  return parseAuthChallenges([header])[0]!.params;
}

describe('WWW-Authenticate parsing and Authorization answers', () => {
  it('splits several challenges in one header value and keeps quoted commas', () => {
    const cs = parseAuthChallenges(['Digest realm="a, b", nonce="n1", qop="auth,auth-int", Basic realm="x"']);
    expect(cs).toEqual([
      { scheme: 'digest', params: { realm: 'a, b', nonce: 'n1', qop: 'auth,auth-int' } },
      { scheme: 'basic', params: { realm: 'x' } },
    ]);
  });

  it('prefers Digest SHA-256, then Digest MD5, then Basic', () => {
    const cs = parseAuthChallenges(['Basic realm="r"', 'Digest realm="r", nonce="a"', 'Digest realm="r", nonce="b", algorithm=SHA-256']);
    expect(chooseChallenge(cs)?.params.nonce).toBe('b');
    expect(chooseChallenge(cs.slice(0, 2))?.params.nonce).toBe('a');
    expect(chooseChallenge(cs.slice(0, 1))?.scheme).toBe('basic');
    expect(chooseChallenge(parseAuthChallenges(['Negotiate abc=='])) ).toBeUndefined();
  });

  it('produces the RFC 2617 section 3.5 example response (qop=auth)', () => {
    const challenge = parseAuthChallenges([
      'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    ])[0]!;
    const header = authorizationHeader(challenge, {
      username: 'Mufasa',
      password: 'Circle Of Life',
      method: 'GET',
      uri: '/dir/index.html',
      nc: 1,
    });
    const p = params(header);
    // Recompute with the cnonce we chose; with cnonce 0a4f113b the RFC gives 6629fae4...
    const ha1 = md5('Mufasa:testrealm@host.com:Circle Of Life');
    const ha2 = md5('GET:/dir/index.html');
    expect(p.response).toBe(md5(`${ha1}:${p.nonce}:00000001:${p.cnonce}:auth:${ha2}`));
    expect(md5(`${ha1}:dcd98b7102dd2f0e8b11d0f600bfb0c093:00000001:0a4f113b:auth:${ha2}`)).toBe('6629fae49393a05397450978507c4ef1');
    expect(p).toMatchObject({ username: 'Mufasa', uri: '/dir/index.html', qop: 'auth', nc: '00000001', opaque: '5ccc069c403ebaf9f0171e9517f40e41' });
  });

  it('answers RFC 2069-style Digest (no qop) and SHA-256, and Basic', () => {
    const noQop = parseAuthChallenges(['Digest realm="cam", nonce="abc"'])[0]!;
    const req = { username: 'u', password: 'p', method: 'DESCRIBE', uri: 'rtsp://h/s', nc: 1 };
    expect(params(authorizationHeader(noQop, req)).response).toBe(md5(`${md5('u:cam:p')}:abc:${md5('DESCRIBE:rtsp://h/s')}`));
    const sha = parseAuthChallenges(['Digest realm="cam", nonce="abc", algorithm=SHA-256'])[0]!;
    const h = (s: string) => createHash('sha256').update(s).digest('hex');
    expect(params(authorizationHeader(sha, req)).response).toBe(h(`${h('u:cam:p')}:abc:${h('DESCRIBE:rtsp://h/s')}`));
    expect(authorizationHeader({ scheme: 'basic', params: {} }, req)).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
  });

  it('never throws on garbage headers', () => {
    for (const g of ['', '=', '"', 'Digest ,,,', 'Digest realm="unterminated', '\u0000\u00ff', 'a'.repeat(10_000)]) {
      expect(() => parseAuthChallenges([g])).not.toThrow();
    }
  });
});
