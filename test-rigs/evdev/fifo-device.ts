/**
 * A FIFO standing in for /dev/input/eventN: the driver opens and reads it through its real code
 * path (fs read stream, record reassembly), the rig writes generated input_event bytes into it.
 * `unplug()` closes the writer (the reader sees EOF, like a vanished device) and removes the
 * node; `plug()` recreates it. Node has no mkfifo(3), so the coreutils `mkfifo` binary is used.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export class FifoDevice {
  private writer: Promise<FileHandle> | null = null;

  constructor(readonly path: string) {}

  /** Creates the node. The writer side opens on first write (it blocks until a reader exists). */
  async plug(): Promise<void> {
    await rm(this.path, { force: true });
    await execFileAsync('mkfifo', ['-m', '600', this.path]);
  }

  async write(bytes: Buffer, opts: { chunkSizes?: number[] } = {}): Promise<void> {
    this.writer ??= open(this.path, 'w');
    const fh = await this.writer;
    const sizes = opts.chunkSizes ?? [bytes.length];
    let off = 0;
    let i = 0;
    while (off < bytes.length) {
      const n = Math.max(1, Math.min(sizes[i++ % sizes.length] ?? bytes.length, bytes.length - off));
      await fh.write(bytes, off, n);
      off += n;
      // Give the reader a chance to see a partial record on its own.
      if (sizes.length > 1) await new Promise((r) => setTimeout(r, 2));
    }
  }

  async unplug(): Promise<void> {
    const w = this.writer;
    this.writer = null;
    if (w) {
      // A writer still waiting for a reader never resolves on its own: be that reader briefly.
      const unblock = await open(this.path, constants.O_RDONLY | constants.O_NONBLOCK).catch(() => null);
      await (await w).close().catch(() => undefined);
      await unblock?.close();
    }
    await rm(this.path, { force: true });
  }
}
