import type { ClientSession } from 'node-opcua';
import type { Lib } from './library.js';

/**
 * `nsu=<uri>;s=Temp` names a node's namespace by URI, as a config author can know it; on the wire
 * a node id carries the namespace's *index* in the server's namespace array, which the server
 * numbers as it likes (and may renumber when it restarts). So an nsu= id is turned into an ns=
 * id against the array of the session in hand, at every session, never once and for all.
 * node-opcua's resolveNodeId refuses the nsu= form ("String cannot be coerced to a nodeId").
 */

export type NodeIdResolution = { ok: true; nodeId: string } | { ok: false; message: string };

const NSU = /^nsu=([^;]+);(.+)$/s;

/** The namespace URI of an `nsu=` node id, else undefined (ns=, or namespace 0). */
export function namespaceUriOf(text: string): string | undefined {
  return NSU.exec(text)?.[1];
}

/** The node id with its namespace URI replaced by that namespace's index in `namespaces`. */
export function withNamespaceIndex(text: string, namespaces: readonly string[]): NodeIdResolution {
  const m = NSU.exec(text);
  if (!m) return { ok: true, nodeId: text };
  const uri = m[1]!;
  let index = namespaces.indexOf(uri);
  // Part 6 escapes a ';' in the URI as %3B: accept the URI written either way.
  if (index < 0 && uri.includes('%')) {
    try {
      index = namespaces.indexOf(decodeURIComponent(uri));
    } catch {
      // not valid percent-encoding: the URI as written was not found either
    }
  }
  if (index < 0) {
    const served = namespaces.map((u, i) => `${i}: ${u}`).join(', ');
    return { ok: false, message: `namespace "${uri}" is not served by this server (its namespace array is [${served}]); check the URI in nsu=, or use ns=<index>` };
  }
  return { ok: true, nodeId: `ns=${index};${m[2]}` };
}

/**
 * The server's namespace array, read afresh: node-opcua's session.readNamespaceArray() caches the
 * first answer on the session, which a server restart can make wrong.
 */
export async function readNamespaces(lib: Lib, session: ClientSession): Promise<string[]> {
  const dv = await session.read({ nodeId: lib.resolveNodeId(lib.VariableIds.Server_NamespaceArray), attributeId: lib.AttributeIds.Value });
  if (dv.statusCode.isNotGood()) throw new Error(`cannot read the server's namespace array (${dv.statusCode.name})`);
  const value: unknown = dv.value?.value;
  return Array.isArray(value) ? value.map(String) : [];
}
