import { closeSync, fsyncSync, openSync, renameSync, statfsSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { fsyncDirectory } from './fsync-dir.js';

/**
 * Space set aside next to the outbox so that acknowledged rows can always be deleted. In WAL mode
 * even a DELETE must append to the WAL first; on a full disk the acks that would free space
 * fail, and the backlog can never drain. The reserve is given back to SQLite exactly then, and
 * new readings are refused until the drain has freed enough room to lay the reserve down again.
 */
export class DiskReserve {
  private held: boolean;

  constructor(
    readonly path: string,
    readonly bytes: number,
  ) {
    // A reserve shorter than configured (e.g. laid down but never synced before a power cut, as
    // earlier versions did) holds nothing back: lay it down again.
    this.held = bytes === 0 || this.fullSize() || this.create();
  }

  private fullSize(): boolean {
    try {
      return statSync(this.path).size >= this.bytes;
    } catch {
      return false;
    }
  }

  /** False while the reserve is given away: the outbox then accepts no new readings. */
  get isHeld(): boolean {
    return this.held;
  }

  /** Give the space back to the filesystem. Returns whether there was anything to give. */
  release(): boolean {
    if (!this.held || this.bytes === 0) return false;
    try {
      unlinkSync(this.path);
    } catch {
      // Already gone: nothing more to free.
    }
    this.held = false;
    return true;
  }

  /** Lay the reserve down again once the filesystem has twice its size free. */
  tryRestore(): boolean {
    if (this.held) return true;
    const fs = statfsSync(dirname(this.path));
    if (fs.bavail * fs.bsize < 2 * this.bytes) return false;
    this.held = this.create();
    return this.held;
  }

  /**
   * Laid down under a temporary name and renamed into place once synced, so the reserve file is
   * either absent or full size: a power cut in the middle can leave only the temporary file,
   * which the next attempt overwrites. Creating the file in place left a short reserve that
   * looked held until the next start noticed.
   */
  private create(): boolean {
    const tmp = `${this.path}.tmp`;
    let fd: number | undefined;
    try {
      fd = openSync(tmp, 'w', 0o600);
      const chunk = Buffer.alloc(Math.min(this.bytes, 1 << 20));
      for (let written = 0; written < this.bytes; ) {
        written += writeSync(fd, chunk, 0, Math.min(chunk.length, this.bytes - written));
      }
      fsyncSync(fd);
      closeSync(fd);
      fd = undefined;
      renameSync(tmp, this.path);
      // The rename is only durable once the directory is synced.
      fsyncDirectory(dirname(this.path));
      return true;
    } catch {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
      try {
        unlinkSync(tmp);
      } catch {
        // Nothing was created.
      }
      return false;
    }
  }
}
