import { readdirSync, existsSync, statSync } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Secret } from '../../drivers/kit/secret.js';
import { basename, extname, join, relative, resolve, isAbsolute } from 'node:path';
import type { z } from 'zod';
import { deviceConfigSchema, driverModuleFor, driverModules, type DeviceConfig, type DriverModule } from '../../drivers/registry.js';
import { redactUrl } from '../forwarder/broker-url.js';
import { gatewayFileSchema, type GatewayFile } from './gateway-schema.js';
import { readCommandKeys } from './command-keys.js';
import type { TrustedKey } from '../commands/signature.js';
import { ConfigError, formatProblem, ProblemList, type ConfigProblem } from './problems.js';
import { parseConfigText, pathKey, type ParseOutcome, type ParsedText } from './parse-yaml.js';
import { ParserThread } from './parser-thread.js';
import { formatBytes, readRegularFile } from './read-file.js';
import { readSecretFiles } from './secret-files.js';

export { ConfigError, formatProblem, MAX_REPORTED_PROBLEMS, permissionAdvice, type ConfigProblem } from './problems.js';
import { unitsIn, unitWarning } from './ucum.js';

/**
 * The one place raw config is read. A config directory holds `gateway.yaml` and one file per
 * device under `devices/` (friendlier to people editing over SSH than one large file). Everything
 * is validated here into typed objects; nothing downstream re-checks raw input. Every problem
 * found is reported at once, each with file, line and key path.
 */

export interface GatewayConfig {
  dir: string;
  gateway: GatewayFile;
  devices: DeviceConfig[];
  /** Which file each device came from, for messages and reload diffs. */
  deviceFiles: Record<string, string>;
  /** The broker password (inline, or read from mqtt.passwordFile), where the forwarder finds it. */
  secrets: { mqttPassword?: Secret };
  /** The command centre's public keys (commands.publicKeys), parsed once here. */
  commandKeys: TrustedKey[];
  /** Valid but worth a maintainer's attention (e.g. a secret file readable by everyone). */
  warnings: ConfigProblem[];
  /**
   * gateway.yaml values as written where the schema turned text into a number (`512MB`, `7d`),
   * by key path (`outbox.retention.maxBytes`): messages show what the maintainer wrote.
   */
  written?: Record<string, string>;
}

export const GATEWAY_FILE = 'gateway.yaml';
export const DEVICES_DIR = 'devices';

interface ParsedFile extends ParsedText {
  rel: string;
}

/** What the loader asks of its driver: a turn for the event loop, or a file's text parsed. */
type Step = { parse: string } | null;

/**
 * Largest config file read. A real device file (a few hundred registers) is tens of kB; the limit
 * leaves room for about 800 registers in one file. It bounds the one step that cannot be split:
 * parsing and validating one file holds the event loop. A reload gives the loop a turn between
 * files and between parsing and validating, so devices and the outbox's commits keep running
 * while a config loads (bench/config-reload.ts measures the longest gap between commits).
 */
export const MAX_CONFIG_FILE_BYTES = 64 * 1024;

export interface LoadOptions {
  /**
   * Read gateway.yaml and devices/ from here instead (a last-good snapshot, config/last-good.ts);
   * paths inside the files still mean relative to the config directory.
   */
  filesDir?: string;
}

/** All config files together (gateway.yaml and every device file): what one load may read and parse. */
export const MAX_CONFIG_TOTAL_BYTES = 2 * 1024 * 1024;

/** Read, parse and validate a config directory in one go (check-config, doctor, start). */
export function loadConfig(dirArg: string, opts: LoadOptions = {}): GatewayConfig {
  const steps = loadSteps(dirArg, opts);
  let answer: ParseOutcome | undefined;
  for (;;) {
    const step = steps.next(answer);
    if (step.done) return step.value;
    answer = step.value ? parseConfigText(step.value.parse) : undefined;
  }
}

/**
 * The same load for a running daemon (reload): files are parsed in a worker thread and the event
 * loop gets a turn between files, so devices and the outbox's commits keep running while a large
 * config loads. bench/config-reload.ts measures the longest gap between commits.
 */
export async function loadConfigAsync(dirArg: string, opts: LoadOptions = {}): Promise<GatewayConfig> {
  const parser = new ParserThread();
  try {
    const steps = loadSteps(dirArg, opts);
    let answer: ParseOutcome | undefined;
    for (;;) {
      const step = steps.next(answer);
      if (step.done) return step.value;
      if (step.value) answer = await parser.parse(step.value.parse);
      else {
        answer = undefined;
        await nextTurn();
      }
    }
  } finally {
    await parser.close();
  }
}

/** The loader, one file per step: it yields after each file it has read and validated. */
function* loadSteps(dirArg: string, opts: LoadOptions = {}): Generator<Step, GatewayConfig, ParseOutcome | undefined> {
  const dir = resolve(dirArg);
  const filesDir = opts.filesDir ?? dir;
  const problems = new ProblemList();
  const budget = { left: MAX_CONFIG_TOTAL_BYTES };
  let dirStat;
  try {
    dirStat = statSync(dir);
  } catch (err) {
    const denied = (err as NodeJS.ErrnoException).code === 'EACCES';
    throw new ConfigError([{ file: dirArg, line: null, path: '', message: denied ? 'permission denied: this user cannot reach the config directory' : 'config directory not found', permissionDenied: denied || undefined }]);
  }
  if (!dirStat.isDirectory()) throw new ConfigError([{ file: dirArg, line: null, path: '', message: 'config directory not found (not a directory)' }]);

  const gatewayFile = yield* readYaml(filesDir, GATEWAY_FILE, problems, budget);
  let gateway: GatewayFile | undefined;
  if (gatewayFile) gateway = validate(gatewayFile, gatewayFileSchema, undefined, problems);
  yield null;

  const devices: DeviceConfig[] = [];
  const deviceFiles: Record<string, string> = {};
  const parsedDevices = new Map<string, ParsedFile>();
  const warnings: ConfigProblem[] = [];
  const devicesDir = join(filesDir, DEVICES_DIR);
  let names: string[] = [];
  try {
    names = readdirSync(devicesDir)
      .filter((n) => !n.startsWith('.') && ['.yaml', '.yml'].includes(extname(n)))
      .sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES') problems.push({ file: DEVICES_DIR, line: null, path: '', message: 'permission denied: this user cannot list the device files', permissionDenied: true });
    else if (code !== 'ENOENT') problems.push({ file: DEVICES_DIR, line: null, path: '', message: `cannot list the device files (${code})` });
  }
  for (const name of names) {
    const file = yield* readYaml(filesDir, join(DEVICES_DIR, name), problems, budget);
    if (!file) continue;
    // A device is named by its file unless it says otherwise: devices/pump-3.yaml -> pump-3.
    const device = validate(file, deviceConfigSchema, { id: basename(name, extname(name)) }, problems);
    yield null;
    if (!device || !readSecretsOf(device, dir, file, problems, warnings)) continue;
    const previous = deviceFiles[device.id];
    if (previous !== undefined) {
      problems.push({ file: file.rel, line: lineOf(file, ['id']), path: 'id', message: `device id "${device.id}" is already used by ${previous}` });
      continue;
    }
    const unknownOverride = unknownReportPoints(device);
    if (unknownOverride.length > 0) {
      for (const name of unknownOverride) problems.push({ file: file.rel, line: lineOf(file, ['report', 'points', name]), path: formatPath(['report', 'points', name]), message: `no point named "${name}" in this device (report overrides name points of the device)` });
      continue;
    }
    deviceFiles[device.id] = file.rel;
    parsedDevices.set(file.rel, file);
    devices.push(device);
    for (const u of unitsIn(device)) {
      const message = unitWarning(u.unit);
      if (message) warnings.push({ file: file.rel, line: lineOf(file, u.path), path: formatPath(u.path), message });
    }
  }

  // Checks across device files (RS-485 units sharing a port), once each file is valid by itself.
  for (const module of driverModules as readonly DriverModule[]) {
    const ofType = devices.filter((d) => d.type === module.type);
    for (const p of module.checkDevices?.(ofType) ?? []) {
      const rel = deviceFiles[p.device]!;
      const file = parsedDevices.get(rel);
      problems.push({ file: rel, line: file ? lineOf(file, p.path) : null, path: formatPath(p.path), message: p.message });
    }
    for (const p of module.warnDevices?.(ofType) ?? []) {
      const rel = deviceFiles[p.device]!;
      const file = parsedDevices.get(rel);
      warnings.push({ file: rel, line: file ? lineOf(file, p.path) : null, path: formatPath(p.path), message: p.message });
    }
  }

  const secrets: GatewayConfig['secrets'] = {};
  let commandKeys: TrustedKey[] = [];
  if (gateway && gatewayFile) {
    resolvePaths(dir, gateway, gatewayFile, secrets, problems, warnings);
    commandKeys = readCommandKeys(dir, gateway.commands.publicKeys, (i, message) =>
      problems.push({ file: gatewayFile.rel, line: lineOf(gatewayFile, ['commands', 'publicKeys', i, 'file']), path: `commands.publicKeys.${i}.file`, message }),
    );
  }

  if (problems.length > 0 || !gateway || !gatewayFile) throw problems.error(dirArg);
  return { dir, gateway, devices, deviceFiles, secrets, commandKeys, warnings, written: writtenAs(gatewayFile.js, gateway) };
}

/** Text values of the raw file that the schema turned into numbers (sizes, durations), by path. */
function writtenAs(raw: unknown, parsed: unknown, path = '', out: Record<string, string> = {}): Record<string, string> {
  if (typeof raw === 'string' && typeof parsed === 'number') out[path] = raw.trim();
  else if (raw && parsed && typeof raw === 'object' && typeof parsed === 'object' && !Array.isArray(raw)) {
    for (const [k, v] of Object.entries(raw)) writtenAs(v, (parsed as Record<string, unknown>)[k], path ? `${path}.${k}` : k, out);
  }
  return out;
}

/** `report.points` keys that name no point of the device (each family says which points its devices report). */
function unknownReportPoints(device: DeviceConfig): string[] {
  const overrides = Object.keys(device.report?.points ?? {});
  const names = overrides.length > 0 ? (driverModuleFor(device.type) as DriverModule | undefined)?.pointNames(device as never) : undefined;
  if (names === undefined) return [];
  const known = new Set(names);
  return overrides.filter((n) => !known.has(n));
}

/**
 * Reads the secret files a validated config names (every field its schema marks as one, whatever
 * the key is called), relative to the config directory. False if one could not be read.
 */
function readSecretsOf(config: object, dir: string, file: ParsedFile, problems: ProblemList, warnings: ConfigProblem[]): boolean {
  const read = readSecretFiles(config, dir);
  for (const w of read.warnings) warnings.push({ file: file.rel, line: lineOf(file, w.path), path: formatPath(w.path), message: w.message });
  for (const p of read.problems) {
    problems.push({ file: file.rel, line: lineOf(file, p.path), path: formatPath(p.path), message: p.message, permissionDenied: p.permissionDenied });
  }
  return read.problems.length === 0;
}

/** Read one file (here: a bounded, regular-file read) and have it parsed (by the driver). */
function* readYaml(dir: string, rel: string, problems: ProblemList, budget: { left: number }): Generator<Step, ParsedFile | undefined, ParseOutcome | undefined> {
  const read = readRegularFile(join(dir, rel), Math.min(MAX_CONFIG_FILE_BYTES, budget.left));
  if (!read.ok) {
    const overBudget = budget.left < MAX_CONFIG_FILE_BYTES && read.message.startsWith('too large');
    problems.push({
      file: rel,
      line: null,
      path: '',
      message: overBudget ? `not read: the config files together exceed ${formatBytes(MAX_CONFIG_TOTAL_BYTES)}, the limit for one config directory` : read.message,
      permissionDenied: read.permissionDenied,
    });
    return undefined;
  }
  budget.left -= read.bytes;
  const outcome = yield { parse: read.text };
  if (!outcome) throw new Error('config loader: a parse step got no answer');
  if (!outcome.ok) {
    for (const p of outcome.problems) problems.push({ file: rel, line: p.line, path: '', message: p.message });
    return undefined;
  }
  return { rel, ...outcome.parsed };
}

function validate<S extends z.ZodType>(
  file: ParsedFile,
  schema: S,
  defaults: Record<string, unknown> | undefined,
  problems: ProblemList,
): z.output<S> | undefined {
  const raw = { ...defaults, ...(file.js ?? {}) };
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    if (problems.full) {
      // Counted, not described: finding each key's line for thousands of problems is the cost.
      problems.count(issue.code === 'unrecognized_keys' ? issue.keys.length : 1);
      continue;
    }
    for (const p of describeIssue(issue)) {
      problems.push({ file: file.rel, line: lineOf(file, p.path), path: formatPath(p.path), message: p.message });
    }
  }
  return undefined;
}

type Issue = z.core.$ZodIssue;

/** Turn zod's issues into maintainer-facing sentences, one per offending key. */
function describeIssue(issue: Issue): { path: PropertyKey[]; message: string }[] {
  const path = issue.path;
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) => ({ path: [...path, k], message: 'unknown key (check spelling; unknown keys are not allowed)' }));
    case 'invalid_value':
      return [{ path, message: `expected one of ${issue.values.map(String).join(', ')}` }];
    case 'invalid_type':
      return [{ path, message: issue.message.includes('received undefined') ? `required (${issue.expected})` : `expected ${issue.expected}` }];
    case 'invalid_union': {
      // zod marks a discriminated union whose `type` matched no branch with this note.
      const union = issue as { note?: string; discriminator?: string };
      if (union.note === 'No matching discriminator') {
        const options = driverModules.map((m) => m.type);
        return [{ path: path.length > 0 ? path : [union.discriminator ?? 'type'], message: `expected one of ${options.join(', ')}` }];
      }
      return [{ path, message: issue.message }];
    }
    case 'too_small':
    case 'too_big':
      return [{ path, message: issue.message.replace(/^Too (small|big): /, '') }];
    default:
      return [{ path, message: issue.message }];
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

/** Line of the deepest key that exists along the path (a missing key points at its parent). */
function lineOf(file: ParsedFile, path: readonly PropertyKey[]): number | null {
  for (let depth = path.length; depth >= 0; depth--) {
    const line = file.keyLines.get(pathKey(path.slice(0, depth)));
    if (line !== undefined) return line;
  }
  return null;
}

/**
 * Settings that run, but protect less than they seem to: said at check-config, at start and in
 * doctor, because a gateway that silently sends its password in clear looks exactly like a safe one.
 */
function warnWeakTransport(gateway: GatewayFile, file: ParsedFile, warnings: ConfigProblem[]): void {
  const tls = gateway.mqtt.tls;
  if (!tls) return;
  const plain = gateway.mqtt.urls.filter((u) => !/^(mqtts|ssl|wss):/i.test(u));
  if (plain.length > 0) {
    warnings.push({
      file: file.rel,
      line: lineOf(file, ['mqtt', 'tls']),
      path: 'mqtt.tls',
      message: `tls is set but ${plain.length} broker URL(s) are plain (${plain.map(redactUrl).join(', ')}): TLS is NOT used for them and the password is sent in clear; use mqtts://`,
    });
  }
  if (tls.rejectUnauthorized === false) {
    warnings.push({
      file: file.rel,
      line: lineOf(file, ['mqtt', 'tls', 'rejectUnauthorized']),
      path: 'mqtt.tls.rejectUnauthorized',
      message: "false: the broker's certificate is NOT verified, so anyone on the network path can pose as the broker and collect the password; set mqtt.tls.caFile instead",
    });
  }
}

/** Paths in config are relative to the config directory; secrets are read once, here. */
function resolvePaths(
  dir: string,
  gateway: GatewayFile,
  file: ParsedFile,
  secrets: GatewayConfig['secrets'],
  problems: ProblemList,
  warnings: ConfigProblem[],
): void {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(dir, p));
  gateway.outbox.path = abs(gateway.outbox.path);
  gateway.control.socket = abs(gateway.control.socket);
  gateway.control.actuateSocket = abs(gateway.control.actuateSocket);
  const tls = gateway.mqtt.tls;
  warnWeakTransport(gateway, file, warnings);
  if (tls) {
    for (const key of ['caFile', 'certFile'] as const) {
      const p = tls[key];
      if (p === undefined) continue;
      tls[key] = abs(p);
      if (!existsSync(tls[key]!)) {
        problems.push({ file: file.rel, line: lineOf(file, ['mqtt', 'tls', key]), path: `mqtt.tls.${key}`, message: `file not found: ${relative(dir, tls[key]!) || tls[key]}` });
      }
    }
  }
  readSecretsOf(gateway, dir, file, problems, warnings);
  const password = gateway.mqtt.passwordFile ?? gateway.mqtt.password;
  if (password !== undefined) secrets.mqttPassword = password instanceof Secret ? password : new Secret(password);
}
