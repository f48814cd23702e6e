import { execFileSync } from 'node:child_process';
import { readFileSync, statfsSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** What the figures were measured on: they mean little without it. */
export interface MachineFacts {
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  kernel: string;
  node: string;
  sqlite: string;
  betterSqlite3: string;
  mqtt: string;
  mosquitto: string;
  /** 1-minute load average at the start: a busy machine explains noisy figures. */
  loadAverage: number;
  /** Where the benchmark's databases live, and the filesystem type's magic as statfs reports it. */
  dataDir: string;
  dataDirFs: string;
}

// Run from dist/bench (npm run bench) or from bench/ (vitest): the project root is one of these.
const ROOTS = [join(import.meta.dirname, '..', '..'), join(import.meta.dirname, '..')];

function packageVersion(name: string): string {
  // Read the file rather than import it: packages with an `exports` map refuse `pkg/package.json`.
  for (const base of ROOTS) {
    try {
      return (JSON.parse(readFileSync(join(base, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      // not this root; try the next
    }
  }
  return 'unknown';
}

function mosquittoVersion(binary: string): string {
  try {
    // `mosquitto -h` prints its version and exits non-zero; the text is what we want.
    return execFileSync(binary, ['-h'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0]!.trim();
  } catch (err) {
    const out = String((err as { stdout?: string }).stdout ?? '');
    const line = out.split('\n')[0]?.trim();
    return line ? line : `not available (${(err as Error).message.split('\n')[0]})`;
  }
}

const FS_MAGIC: Record<number, string> = { 0xef53: 'ext4', 0x01021994: 'tmpfs', 0x58465342: 'xfs', 0x9123683e: 'btrfs', 0x794c7630: 'overlayfs', 0xf2f52010: 'f2fs' };

export function machineFacts(dataDir: string, mosquittoBinary: string): MachineFacts {
  const cpus = os.cpus();
  const db = new Database(':memory:');
  const sqlite = (db.prepare('select sqlite_version() as v').get() as { v: string }).v;
  db.close();
  let fsType = 'unknown';
  try {
    const type = statfsSync(dataDir).type;
    fsType = FS_MAGIC[type] ?? `0x${type.toString(16)}`;
  } catch {
    // statfs is informative only
  }
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryBytes: os.totalmem(),
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    sqlite,
    betterSqlite3: packageVersion('better-sqlite3'),
    mqtt: packageVersion('mqtt'),
    mosquitto: mosquittoVersion(mosquittoBinary),
    loadAverage: os.loadavg()[0] ?? NaN,
    dataDir,
    dataDirFs: fsType,
  };
}
