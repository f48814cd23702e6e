import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fsyncDirectory } from '../outbox/fsync-dir.js';
import type { ReadingValue } from '../model/reading.js';
import type { SentState } from './point-decision.js';

/**
 * What report-by-exception last sent per device and point, kept across a clean restart in a
 * small file beside the outbox (the outbox itself knows nothing of devices). It is written once,
 * at a clean stop after the final commit, and removed when read at start: a file present at
 * start therefore always describes what the previous run committed last. After a crash there is
 * no file, and the first reading of every point is sent again (a state saved before the crash
 * could be older than what was committed, and trusting it could hold back a real change).
 */
export const REPORT_STATE_FILE = 'report-state.json';

export type DeviceStates = Map<string, Map<string, SentState>>;

interface FileContent {
  v: 1;
  /** device -> point -> [value, ts] */
  devices: Record<string, Record<string, [ReadingValue, number]>>;
}

export function reportStatePath(stateDir: string): string {
  return join(stateDir, REPORT_STATE_FILE);
}

/** Reads and removes the file; null when there is none. Throws with the path on a file it cannot use. */
export function takeReportState(path: string): DeviceStates | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`report state ${path}: ${(err as Error).message}`, { cause: err });
  }
  unlinkSync(path);
  fsyncDirectory(dirname(path));
  return parse(text, path);
}

function parse(text: string, path: string): DeviceStates {
  const bad = (why: string) => new Error(`report state ${path}: ${why}; ignoring it (the first reading of every point is sent)`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw bad(`not JSON (${(err as Error).message})`);
  }
  const content = raw as Partial<FileContent>;
  if (typeof raw !== 'object' || raw === null || content.v !== 1 || typeof content.devices !== 'object' || content.devices === null) throw bad('not a version 1 state');
  const out: DeviceStates = new Map();
  for (const [device, points] of Object.entries(content.devices)) {
    if (typeof points !== 'object' || points === null) throw bad(`device ${device} is not an object`);
    const m = new Map<string, SentState>();
    for (const [point, entry] of Object.entries(points)) {
      const ok = Array.isArray(entry) && entry.length === 2 && ['number', 'boolean', 'string'].includes(typeof entry[0]) && Number.isFinite(entry[1]);
      if (!ok) throw bad(`${device}/${point} is not [value, ts]`);
      m.set(point, { value: entry[0] as ReadingValue, ts: entry[1] as number });
    }
    out.set(device, m);
  }
  return out;
}

/** Writes the file atomically (temp file, fsync, rename). Only states holding a usable value are kept. */
export function writeReportState(path: string, states: DeviceStates): void {
  const content: FileContent = { v: 1, devices: {} };
  for (const [device, points] of states) {
    const d: Record<string, [ReadingValue, number]> = {};
    for (const [point, s] of points) if (s.value !== undefined && s.value !== null) d[point] = [s.value, s.ts];
    content.devices[device] = d;
  }
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o640);
  try {
    writeSync(fd, JSON.stringify(content));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDirectory(dirname(path));
}
