import { userInfo } from 'node:os';
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';

/**
 * Reading one config file as hostile input. Only a regular file is read: a FIFO would block the
 * whole daemon on open or read (a reload stalls devices and forwarding), and a character device
 * such as /dev/zero reports size 0 and never ends. So the file is opened without blocking, the
 * opened descriptor (not the path, which a symlink can redirect) is checked, and the size cap is
 * enforced on the bytes actually read, not on what stat claims.
 */

/** `mode` is the opened file's, for permission checks that cannot race a renamed path. */
export type FileRead = { ok: true; text: string; bytes: number; mode: number } | { ok: false; message: string; permissionDenied?: boolean };

const CHUNK_BYTES = 64 * 1024;
const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

export function readRegularFile(path: string, maxBytes: number): FileRead {
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch (err) {
    return openFailure(err as NodeJS.ErrnoException);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { ok: false, message: `not a regular file (${kindOf(st)}): only plain files are read as config` };
    if (st.size > maxBytes) return tooLarge(formatBytes(st.size), maxBytes);
    // The cap holds on the bytes that actually arrive: a file that grows while it is read, or
    // whose stat size lies, is still stopped one chunk past the limit.
    const chunks: Buffer[] = [];
    let got = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
      const n = readSync(fd, chunk, 0, CHUNK_BYTES, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      got += n;
      if (got > maxBytes) return tooLarge(`more than ${formatBytes(maxBytes)}`, maxBytes);
    }
    return { ok: true, text: Buffer.concat(chunks, got).toString('utf8'), bytes: got, mode: st.mode };
  } catch (err) {
    return openFailure(err as NodeJS.ErrnoException);
  } finally {
    closeSync(fd);
  }
}

function openFailure(err: NodeJS.ErrnoException): FileRead {
  switch (err.code) {
    case 'ENOENT':
      return { ok: false, message: 'file not found' };
    case 'EACCES':
    case 'EPERM':
      return { ok: false, message: `permission denied: this user (${currentUser()}) cannot read it`, permissionDenied: true };
    case 'EISDIR':
      return { ok: false, message: 'not a regular file (a directory): only plain files are read as config' };
    default:
      return { ok: false, message: `cannot read file (${err.code ?? err.message})` };
  }
}

function tooLarge(size: string, limit: number): FileRead {
  return { ok: false, message: `too large: ${size}, the limit is ${formatBytes(limit)} (is this the file you meant? split a huge register map across devices)` };
}

function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a directory';
  return 'not a plain file';
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`;
  }
}

export function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`;
}
