import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';

/**
 * One config file's text to plain data plus the line of every key, or the YAML problems with
 * their lines. This is the expensive part of loading a config (most of it is yaml's parser and
 * the garbage it leaves), so a running daemon does it in a worker thread (`config-parser`) and
 * its event loop, devices and group commits keep running while a reload parses. It imports
 * nothing of the project at run time so the worker starts from this file alone; everything it
 * returns is plain, structured-cloneable data.
 */

export interface ParsedText {
  /** The document as plain JS (null for an empty file). */
  js: Record<string, unknown> | null;
  /** Line of each key (and each sequence item, and the root) by path (`pathKey`). */
  keyLines: Map<string, number>;
}

export type ParseOutcome = { ok: true; parsed: ParsedText } | { ok: false; problems: { line: number | null; message: string }[] };

export function parseConfigText(text: string): ParseOutcome {
  const lines = new LineCounter();
  // yaml's own uniqueKeys check compares each key with every earlier one (quadratic: a 27 MB
  // file took minutes); duplicates are found with one Set per mapping instead.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  if (doc.errors.length > 0) {
    return { ok: false, problems: doc.errors.map((e) => ({ line: lines.linePos(e.pos[0]).line, message: `YAML: ${e.message.split('\n')[0]}` })) };
  }
  const duplicates = duplicateKeyOffsets(doc);
  if (duplicates.length > 0) return { ok: false, problems: duplicates.map((pos) => ({ line: lines.linePos(pos).line, message: 'YAML: Map keys must be unique' })) };
  if (doc.contents !== null && !isMap(doc.contents)) return { ok: false, problems: [{ line: 1, message: 'expected a mapping of keys to values at the top level' }] };
  let js: Record<string, unknown> | null;
  try {
    // Unresolved aliases and alias bombs surface only here, not in doc.errors.
    js = doc.toJS({ maxAliasCount: 100 }) as Record<string, unknown> | null;
  } catch (err) {
    return { ok: false, problems: [{ line: null, message: `YAML: ${(err as Error).message}` }] };
  }
  const keyLines = new Map<string, number>();
  for (const [key, pos] of keyPositions(doc)) keyLines.set(key, lines.linePos(pos).line);
  return { ok: true, parsed: { js, keyLines } };
}

export function pathKey(path: readonly PropertyKey[]): string {
  return JSON.stringify(path.map((p) => (typeof p === 'number' ? p : String(p))));
}

/** For every path in the document, where its key (or sequence item, or the root) starts. */
function keyPositions(doc: Document.Parsed): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (node: unknown, path: (string | number)[], at: number | undefined): void => {
    const start = at ?? (node as Node | null)?.range?.[0];
    if (start !== undefined) out.set(pathKey(path), start);
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isScalar(pair.key)) continue;
        const k = pair.key.value;
        if (typeof k !== 'string' && typeof k !== 'number') continue;
        walk(pair.value, [...path, typeof k === 'number' ? String(k) : k], pair.key.range?.[0]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, [...path, i], undefined));
    }
  };
  walk(doc.contents, [], undefined);
  return out;
}

/** Start offsets of keys that repeat an earlier key of the same mapping (linear). */
function duplicateKeyOffsets(doc: Document.Parsed): number[] {
  const out: number[] = [];
  const walk = (node: unknown): void => {
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        const k = isScalar(pair.key) ? pair.key.value : pair.key;
        if (seen.has(k)) out.push((pair.key as Node | null)?.range?.[0] ?? 0);
        seen.add(k);
        walk(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) walk(item);
    }
  };
  walk(doc.contents);
  return out;
}

/** The worker's side: one request `{ id, text }` in, one `{ id, outcome }` out. */
export const PARSER_WORKER_ROLE = 'config-parser';

if (!isMainThread && parentPort && (workerData as { role?: string } | null)?.role === PARSER_WORKER_ROLE) {
  const port = parentPort;
  port.on('message', (msg: { id: number; text: string }) => {
    let outcome: ParseOutcome;
    try {
      outcome = parseConfigText(msg.text);
    } catch (err) {
      outcome = { ok: false, problems: [{ line: null, message: `YAML: ${(err as Error).message}` }] };
    }
    port.postMessage({ id: msg.id, outcome });
  });
}
