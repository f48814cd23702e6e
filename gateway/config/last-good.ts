import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { fsyncDirectory } from '../outbox/fsync-dir.js';
import { ConfigError, GATEWAY_FILE, loadConfig, MAX_CONFIG_FILE_BYTES, type ConfigProblem, type GatewayConfig } from './load.js';

/**
 * The last config that loaded, kept in the state directory so that a bad edit followed by a
 * reboot (or a power cut) does not stop every device: at start, an invalid config directory
 * falls back to this copy, loudly (status, health, an event, the log).
 *
 * What is kept: gateway.yaml and the device files, byte for byte, as `last-good-config/` next to
 * the outbox (a technician can `diff -r` it against /etc/edge-gateway), plus `manifest.json`
 * (which config directory, when). What is NOT copied: files the config names (passwordFile,
 * TLS certificates and keys, OPC-UA PKI folders). They stay where they are, referenced by the
 * same paths (relative ones still relative to the config directory): secrets are not duplicated
 * into a second place with its own permissions, and a rotated password applies to the fallback.
 *
 * Written atomically as a whole: a fresh copy is written and fsynced as `last-good-config.new`,
 * validated by the loader from there, then swapped in by renames (`.old` bridges the moment
 * between them; a reader falls back to it).
 */

export const LAST_GOOD_DIR = 'last-good-config';
const MANIFEST = 'manifest.json';
/** The packaged state directory, where the last good config is looked for when nothing better says. */
const DEFAULT_STATE_DIR = '/var/lib/edge-gateway';

interface Manifest {
  configDir: string;
  savedAt: string;
  /** The files kept, relative to the config directory. */
  files: string[];
}

export interface LastGood {
  config: GatewayConfig;
  savedAt: string;
  /** The snapshot folder the config was read from. */
  from: string;
}

/** The state directory of a loaded config: where its outbox lives. */
export function stateDirOf(config: GatewayConfig): string {
  return dirname(config.gateway.outbox.path);
}

/**
 * Keep `config` (just loaded and running) as the last good one. Unchanged files are not written
 * again (an SD card wears by the write). Returns when the kept copy was saved (ISO 8601).
 */
export function saveLastGood(config: GatewayConfig): string {
  const state = stateDirOf(config);
  const target = join(state, LAST_GOOD_DIR);
  const files: Record<string, string> = {};
  for (const rel of [GATEWAY_FILE, ...Object.values(config.deviceFiles).sort()]) files[rel] = readConfigFile(join(config.dir, rel));
  const current = readManifest(target);
  if (current && current.configDir === config.dir && sameFiles(target, current, files)) return current.savedAt;

  const fresh = `${target}.new`;
  rmSync(fresh, { recursive: true, force: true });
  mkdirSync(fresh, { recursive: true, mode: 0o750 });
  for (const [rel, text] of Object.entries(files)) writeSynced(join(fresh, rel), text);
  const savedAt = new Date().toISOString();
  writeSynced(join(fresh, MANIFEST), `${JSON.stringify({ configDir: config.dir, savedAt, files: Object.keys(files) } satisfies Manifest, null, 2)}\n`);
  fsyncDirectory(fresh);
  // A file edited between the daemon's load and this copy must not become the "good" one.
  loadConfig(config.dir, { filesDir: fresh });

  const old = `${target}.old`;
  rmSync(old, { recursive: true, force: true });
  if (existsSync(target)) renameSync(target, old);
  renameSync(fresh, target);
  fsyncDirectory(state);
  rmSync(old, { recursive: true, force: true });
  return savedAt;
}

/**
 * The last good config of `configDir`, or null when there is none (never saved, or saved for
 * another config directory). Throws ConfigError if the copy itself no longer loads (e.g. a
 * secret file it names was removed since).
 */
export function loadLastGood(configDir: string): LastGood | null {
  const dir = resolve(configDir);
  for (const state of stateDirCandidates(dir)) {
    for (const folder of [join(state, LAST_GOOD_DIR), join(state, `${LAST_GOOD_DIR}.old`)]) {
      const manifest = readManifest(folder);
      if (!manifest || manifest.configDir !== dir) continue;
      return { config: loadConfig(dir, { filesDir: folder }), savedAt: manifest.savedAt, from: folder };
    }
  }
  return null;
}

export type StartConfig = { config: GatewayConfig; rejected: null } | { config: GatewayConfig; rejected: ConfigProblem[]; lastGood: LastGood };

/**
 * The config a daemon starts on: the config directory's, or, when that is invalid, its last good
 * one with the problems that kept the files on disk out. Throws the directory's ConfigError when
 * there is no last good config to run (or it no longer loads either: its problems are appended).
 */
export function loadConfigOrLastGood(configDir: string): StartConfig {
  try {
    return { config: loadConfig(configDir), rejected: null };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    let lastGood: LastGood | null;
    try {
      lastGood = loadLastGood(configDir);
    } catch (fallbackErr) {
      if (!(fallbackErr instanceof ConfigError)) throw fallbackErr;
      const note = (p: ConfigProblem): ConfigProblem => ({ ...p, message: `${p.message} (in the last good config, which therefore cannot stand in)` });
      throw new ConfigError([...err.problems, ...fallbackErr.problems.map(note)]);
    }
    if (!lastGood) throw err;
    return { config: lastGood.config, rejected: err.problems, lastGood };
  }
}

/** The last good config of `configDir` for tools (status, doctor), or null when there is none that loads. */
export function lastGoodQuietly(configDir: string): GatewayConfig | null {
  try {
    return loadLastGood(configDir)?.config ?? null;
  } catch {
    return null;
  }
}

/**
 * Where the state directory is, when the config that says so may be the broken one: the outbox
 * path gateway.yaml names if it still parses that far, systemd's $STATE_DIRECTORY, the default.
 */
function stateDirCandidates(configDir: string): string[] {
  const found: string[] = [];
  try {
    const raw = parseYaml(readConfigFile(join(configDir, GATEWAY_FILE))) as { outbox?: { path?: unknown } } | null;
    const p = raw?.outbox?.path;
    if (typeof p === 'string' && p !== '') found.push(dirname(isAbsolute(p) ? p : resolve(configDir, p)));
  } catch {
    // gateway.yaml is the broken file: the other places still apply.
  }
  for (const s of (process.env.STATE_DIRECTORY ?? '').split(':')) if (s) found.push(s);
  found.push(DEFAULT_STATE_DIR);
  return [...new Set(found)];
}

/**
 * A config file's text, only if it is a regular file within the loader's size limit: what lies in
 * the config directory may by now be anything (a FIFO, a link to /dev/zero), whatever loaded before.
 */
function readConfigFile(path: string): string {
  const st = statSync(path);
  if (!st.isFile() || st.size > MAX_CONFIG_FILE_BYTES) throw new Error(`${path}: not a regular config file of at most ${MAX_CONFIG_FILE_BYTES} bytes`);
  return readFileSync(path, 'utf8');
}

function readManifest(folder: string): Manifest | null {
  try {
    const m = JSON.parse(readFileSync(join(folder, MANIFEST), 'utf8')) as Partial<Manifest>;
    return typeof m.configDir === 'string' && typeof m.savedAt === 'string' && Array.isArray(m.files) ? (m as Manifest) : null;
  } catch {
    return null;
  }
}

function sameFiles(folder: string, manifest: Manifest, files: Record<string, string>): boolean {
  const names = Object.keys(files);
  if (names.length !== manifest.files.length) return false;
  try {
    return names.every((rel) => manifest.files.includes(rel) && readFileSync(join(folder, rel), 'utf8') === files[rel]);
  } catch {
    return false;
  }
}

function writeSynced(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
  const fd = openSync(path, 'w', 0o640);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (dirname(path).endsWith('/devices')) fsyncDirectory(dirname(path));
}

