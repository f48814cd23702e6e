import { appendFileSync } from 'node:fs';

/** Keeps a broker's log in a file (for after the fact) and its last lines in memory (for errors). */
export class LogTail {
  private readonly lines: string[] = [];
  private partial = '';

  constructor(
    readonly file: string,
    private readonly keep = 200,
  ) {}

  write(chunk: Buffer | string): void {
    const text = chunk.toString();
    try {
      // Synchronous so the file is complete when a start failure is reported right after exit.
      appendFileSync(this.file, text);
    } catch {
      // The temp dir is gone after dispose(); late lines still reach the in-memory tail.
    }
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    this.lines.push(...parts);
    if (this.lines.length > this.keep) this.lines.splice(0, this.lines.length - this.keep);
  }

  note(line: string): void {
    this.write(`[fixture] ${line}\n`);
  }

  tail(n = 30): string {
    const all = this.partial ? [...this.lines, this.partial] : this.lines;
    return all.slice(-n).join('\n');
  }
}
