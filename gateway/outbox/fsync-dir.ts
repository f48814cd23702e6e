import { closeSync, fsyncSync, openSync } from 'node:fs';

/** Make a directory's entries (a file just created or renamed into it) survive a power cut. */
export function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
