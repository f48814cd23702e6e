import { describe, expect, it } from 'vitest';
import { namespaceUriOf, withNamespaceIndex } from './node-id.js';

const served = ['http://opcfoundation.org/UA/', 'urn:server:own', 'urn:vendor', 'urn:plc;line=2'];

describe('nsu= node ids', () => {
  it("take the index of their URI in the session's namespace array", () => {
    expect(withNamespaceIndex('nsu=urn:vendor;s=Temp', served)).toEqual({ ok: true, nodeId: 'ns=2;s=Temp' });
    expect(withNamespaceIndex('nsu=urn:server:own;i=1001', served)).toEqual({ ok: true, nodeId: 'ns=1;i=1001' });
    // Part 6: a ';' inside the URI is written %3B.
    expect(withNamespaceIndex('nsu=urn:plc%3Bline=2;s=A;B', served)).toEqual({ ok: true, nodeId: 'ns=3;s=A;B' });
  });

  it('leave ns= and namespace-0 ids as they are', () => {
    expect(withNamespaceIndex('ns=2;s=Counter', served)).toEqual({ ok: true, nodeId: 'ns=2;s=Counter' });
    expect(withNamespaceIndex('i=2258', [])).toEqual({ ok: true, nodeId: 'i=2258' });
    expect(namespaceUriOf('ns=2;s=x')).toBeUndefined();
    expect(namespaceUriOf('nsu=urn:a;s=x')).toBe('urn:a');
  });

  it('name an unknown URI and what the server does serve', () => {
    const r = withNamespaceIndex('nsu=urn:nope;s=Temp', served);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message).toContain('namespace "urn:nope" is not served by this server');
      expect(r.message).toContain('2: urn:vendor');
    }
  });
});
