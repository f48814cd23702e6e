import { open, type FileHandle } from 'node:fs/promises';

/**
 * Writes to the simulator's end of a pty pair (or any tty path). Opened per use so a test can
 * unplug/replug the pair and keep writing to the new device behind the same link.
 */
export class PtyWriter {
  private fh: FileHandle | null = null;

  constructor(private readonly path: string) {}

  async write(data: string | Buffer): Promise<void> {
    if (!this.fh) this.fh = await open(this.path, 'w');
    const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    let off = 0;
    while (off < buf.length) {
      const { bytesWritten } = await this.fh.write(buf, off, buf.length - off);
      off += bytesWritten;
    }
  }

  /** Drop the handle, e.g. before an unplug, so the next write opens the replugged device. */
  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    await fh?.close().catch(() => undefined);
  }
}
