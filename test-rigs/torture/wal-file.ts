import { readFileSync } from 'node:fs';

/**
 * Just enough of SQLite's WAL format (https://www.sqlite.org/fileformat2.html#walformat) to find
 * where each committed transaction ends, so a test can tear the file at a chosen point.
 * Frames are valid while their salts match the header's; a frame with a non-zero "database size
 * after commit" ends a transaction.
 */
export interface WalLayout {
  pageSize: number;
  frameSize: number;
  /** Byte offset just past each commit frame, ascending. */
  commitEnds: number[];
  validFrames: number;
}

const HEADER = 32;
const FRAME_HEADER = 24;

export function readWalLayout(path: string): WalLayout {
  const buf = readFileSync(path);
  if (buf.length < HEADER) throw new Error(`WAL ${path}: ${buf.length} bytes, shorter than its header`);
  const magic = buf.readUInt32BE(0);
  if (magic !== 0x377f0682 && magic !== 0x377f0683) throw new Error(`WAL ${path}: bad magic 0x${magic.toString(16)}`);
  const pageSize = buf.readUInt32BE(8);
  const salt1 = buf.readUInt32BE(16);
  const salt2 = buf.readUInt32BE(20);
  const frameSize = FRAME_HEADER + pageSize;
  const commitEnds: number[] = [];
  let validFrames = 0;
  for (let off = HEADER; off + frameSize <= buf.length; off += frameSize) {
    if (buf.readUInt32BE(off + 8) !== salt1 || buf.readUInt32BE(off + 12) !== salt2) break;
    validFrames++;
    if (buf.readUInt32BE(off + 4) !== 0) commitEnds.push(off + frameSize);
  }
  return { pageSize, frameSize, commitEnds, validFrames };
}
