/**
 * What each seq carried, as a 32-bit fingerprint, so that a seq arriving twice can be told apart:
 * the same content is an at-least-once redelivery (harmless), different content is a *reused* seq
 * (the gateway numbered two readings alike; deduplicating by seq would silently discard one).
 *
 * Seqs are dense, so fingerprints live in pages of 4096 slots (16 KiB) rather than a Map entry
 * per seq: a million readings cost ~4 MB. 0 means "not seen".
 */
const PAGE_BITS = 12;
const PAGE_SIZE = 1 << PAGE_BITS;

export type ContentCheck = 'new' | 'same' | 'different';

export class FingerprintLog {
  private readonly pages = new Map<number, Uint32Array>();

  /** Records `fingerprint` for `seq` if it is the first; says how it compares to the first. */
  check(seq: number, fingerprint: number): ContentCheck {
    const key = Math.floor(seq / PAGE_SIZE);
    let page = this.pages.get(key);
    if (!page) {
      page = new Uint32Array(PAGE_SIZE);
      this.pages.set(key, page);
    }
    const slot = seq % PAGE_SIZE;
    const seen = page[slot]!;
    if (seen === 0) {
      page[slot] = fingerprint;
      return 'new';
    }
    return seen === fingerprint ? 'same' : 'different';
  }
}

/** FNV-1a over the UTF-16 code units of `text`, never 0 (0 marks an empty slot). */
export function fingerprint(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0 || 1;
}

/**
 * JSON with object keys sorted at every level and undefined members left out: two values that
 * say the same thing give the same text however they were built. A v2 poll record expanded here
 * and the same reading parsed from a v1 batch must fingerprint alike, or a gateway switched from
 * v1 to v2 that redelivers a batch would look like it reused seqs.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const obj = value as Record<string, unknown>;
  const members = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`);
  return `{${members.join(',')}}`;
}

/** A reading's fingerprint: of its content, not of the order its fields were written in. */
export function contentFingerprint(reading: unknown): number {
  return fingerprint(canonicalJson(reading));
}
