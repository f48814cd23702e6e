import type { RowEncoder, SharedPart } from '../model/encoded-row.js';
import type { Statements } from './schema.js';

/**
 * Shared parts (payload v2's layouts) in the `layouts` table: stored once, in the transaction of
 * the first row that names them, and looked up by the ids a claimed row names. What a part means
 * is the encoder's business; the store keeps its id and text.
 */
export class SharedParts {
  /** Parts known to be in the table, by id (filled on store and on first claim). */
  private readonly known = new Map<string, SharedPart>();

  constructor(
    private readonly stmts: Statements,
    private readonly encoder: RowEncoder,
    private readonly path: string,
  ) {
    stmts.dropUnusedLayouts.run();
  }

  /** Inside the transaction writing a row that names `parts`: the column value for that row. */
  store(parts: readonly SharedPart[]): string | null {
    if (parts.length === 0) return null;
    for (const part of parts) {
      if (this.known.has(part.id)) continue;
      this.stmts.insertLayout.run(part.id, part.text);
      this.known.set(part.id, part);
    }
    return parts.length === 1 ? parts[0]!.id : parts.map((p) => p.id).join(' ');
  }

  /** Parts named in a row's `ids` that are not yet in `have`. */
  newIn(ids: string, have: readonly SharedPart[]): SharedPart[] {
    const out: SharedPart[] = [];
    for (const id of ids.split(' ')) {
      if (have.some((l) => l.id === id) || out.some((l) => l.id === id)) continue;
      let part = this.known.get(id);
      if (part === undefined) {
        const row = this.stmts.getLayout.get(id) as { json: string } | undefined;
        // Stored in the same transaction as every row naming it, so only a hand-edited file lacks it.
        if (row === undefined) throw new Error(`outbox ${this.path}: a row names layout ${id}, which is not stored`);
        this.known.set(id, (part = this.encoder.part(id, row.json)));
      }
      out.push(part);
    }
    return out;
  }
}
