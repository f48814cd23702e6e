import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import { secretFileExposure, secretFromFileText } from '../../drivers/kit/secret-file.js';
import { basename, extname, join, relative, resolve, isAbsolute } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { deviceConfigSchema, driverModules, type DeviceConfig, type DriverModule } from '../../drivers/registry.js';
import { redactUrl } from '../forwarder/broker-url.js';
import { gatewayFileSchema, type GatewayFile } from './gateway-schema.js';
import { readCommandKeys } from './command-keys.js';
import type { TrustedKey } from '../commands/signature.js';

/**
 * The one place raw config is read. A config directory holds `gateway.yaml` and one file per
 * device under `devices/` (friendlier to people editing over SSH than one large file). Everything
 * is validated here into typed objects; nothing downstream re-checks raw input. Every problem
 * found is reported at once, each with file, line and key path.
 */

export interface ConfigProblem {
  file: string;
  line: number | null;
  path: string;
  message: string;
}

export interface GatewayConfig {
  dir: string;
  gateway: GatewayFile;
  devices: DeviceConfig[];
  /** Which file each device came from, for messages and reload diffs. */
  deviceFiles: Record<string, string>;
  /** Broker password read from passwordFile, kept apart so it never lands in logs. */
  secrets: { mqttPassword?: string };
  /** The command centre's public keys (commands.publicKeys), parsed once here. */
  commandKeys: TrustedKey[];
  /** Valid but worth a maintainer's attention (e.g. a secret file readable by everyone). */
  warnings: ConfigProblem[];
}

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: ConfigProblem[]) {
    super(`${problems.length} configuration problem(s):\n${problems.map(formatProblem).join('\n')}`);
  }
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.line === null ? p.file : `${p.file}:${p.line}`;
  return p.path ? `${where}: ${p.path}: ${p.message}` : `${where}: ${p.message}`;
}

export const GATEWAY_FILE = 'gateway.yaml';
export const DEVICES_DIR = 'devices';

interface ParsedFile {
  rel: string;
  doc: Document.Parsed;
  lines: LineCounter;
  /** Start offset of each key (and of each sequence item) by path; built on first use. */
  positions?: Map<string, number>;
}

/**
 * Largest config file read. A real device file (a few hundred registers) is tens of kB; the limit
 * leaves well over ten times that and keeps a runaway generator or a wrong file from
 * holding the loader (and `check-config`, and a reload) for minutes.
 */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

export function loadConfig(dirArg: string): GatewayConfig {
  const dir = resolve(dirArg);
  const problems: ConfigProblem[] = [];
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ConfigError([{ file: dirArg, line: null, path: '', message: 'config directory not found' }]);
  }

  const gatewayFile = readYaml(dir, GATEWAY_FILE, problems);
  let gateway: GatewayFile | undefined;
  if (gatewayFile) gateway = validate(gatewayFile, gatewayFileSchema, undefined, problems);

  const devices: DeviceConfig[] = [];
  const deviceFiles: Record<string, string> = {};
  const parsedDevices = new Map<string, ParsedFile>();
  const warnings: ConfigProblem[] = [];
  const devicesDir = join(dir, DEVICES_DIR);
  const names = existsSync(devicesDir)
    ? readdirSync(devicesDir)
        .filter((n) => !n.startsWith('.') && ['.yaml', '.yml'].includes(extname(n)))
        .sort()
    : [];
  for (const name of names) {
    const file = readYaml(dir, join(DEVICES_DIR, name), problems);
    if (!file) continue;
    // A device is named by its file unless it says otherwise: devices/pump-3.yaml -> pump-3.
    // Driver schemas may read files they reference (secrets, certificates): relative paths in a
    // device file mean relative to the config directory, as they do for a running daemon.
    const device = inDirectory(dir, () => validate(file, deviceConfigSchema, { id: basename(name, extname(name)) }, problems));
    if (!device) continue;
    const previous = deviceFiles[device.id];
    if (previous !== undefined) {
      problems.push({ file: file.rel, line: lineOf(file, ['id']), path: 'id', message: `device id "${device.id}" is already used by ${previous}` });
      continue;
    }
    deviceFiles[device.id] = file.rel;
    parsedDevices.set(file.rel, file);
    devices.push(device);
    warnReadableSecrets(dir, file, warnings);
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

  if (problems.length > 0 || !gateway) throw new ConfigError(problems);
  return { dir, gateway, devices, deviceFiles, secrets, commandKeys, warnings };
}

/** Any `passwordFile` a device names (camera, OPC-UA...) should not be readable by other users. */
function warnReadableSecrets(dir: string, file: ParsedFile, warnings: ConfigProblem[]): void {
  const visit = (node: unknown, path: (string | number)[]): void => {
    if (Array.isArray(node)) node.forEach((v, i) => visit(v, [...path, i]));
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === 'passwordFile' && typeof v === 'string') {
          const p = isAbsolute(v) ? v : resolve(dir, v);
          const exposed = secretFileExposure(p);
          if (exposed) warnings.push({ file: file.rel, line: lineOf(file, [...path, k]), path: formatPath([...path, k]), message: exposed });
        } else visit(v, [...path, k]);
      }
    }
  };
  visit(file.doc.toJS({ maxAliasCount: 100 }), []);
}

function inDirectory<T>(dir: string, fn: () => T): T {
  const previous = process.cwd();
  process.chdir(dir);
  try {
    return fn();
  } finally {
    process.chdir(previous);
  }
}

function readYaml(dir: string, rel: string, problems: ConfigProblem[]): ParsedFile | undefined {
  let text: string;
  try {
    const size = statSync(join(dir, rel)).size;
    if (size > MAX_CONFIG_FILE_BYTES) {
      problems.push({ file: rel, line: null, path: '', message: `too large: ${formatBytes(size)}, the limit is ${formatBytes(MAX_CONFIG_FILE_BYTES)} (is this the file you meant? split a huge register map across devices)` });
      return undefined;
    }
    text = readFileSync(join(dir, rel), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    problems.push({ file: rel, line: null, path: '', message: code === 'ENOENT' ? 'file not found' : `cannot read file (${code})` });
    return undefined;
  }
  const lines = new LineCounter();
  // yaml's own uniqueKeys check compares each key with every earlier one (quadratic: a 27 MB
  // file took minutes); duplicates are found with one Set per mapping instead.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      problems.push({ file: rel, line: lines.linePos(e.pos[0]).line, path: '', message: `YAML: ${e.message.split('\n')[0]}` });
    }
    return undefined;
  }
  const duplicates = duplicateKeyOffsets(doc);
  if (duplicates.length > 0) {
    for (const pos of duplicates) problems.push({ file: rel, line: lines.linePos(pos).line, path: '', message: 'YAML: Map keys must be unique' });
    return undefined;
  }
  if (doc.contents !== null && !isMap(doc.contents)) {
    problems.push({ file: rel, line: 1, path: '', message: 'expected a mapping of keys to values at the top level' });
    return undefined;
  }
  return { rel, doc, lines };
}

function validate<S extends z.ZodType>(
  file: ParsedFile,
  schema: S,
  defaults: Record<string, unknown> | undefined,
  problems: ConfigProblem[],
): z.output<S> | undefined {
  let js: Record<string, unknown> | null;
  try {
    // Unresolved aliases and alias bombs surface only here, not in doc.errors.
    js = file.doc.toJS({ maxAliasCount: 100 }) as Record<string, unknown> | null;
  } catch (err) {
    problems.push({ file: file.rel, line: null, path: '', message: `YAML: ${(err as Error).message}` });
    return undefined;
  }
  const raw = { ...defaults, ...(js ?? {}) };
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
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
  // One walk of the document per file, then a lookup per problem: asking the document for each
  // path (getIn, then a scan of the parent's keys) made a file with many problems quadratic.
  file.positions ??= keyPositions(file.doc);
  for (let depth = path.length; depth >= 0; depth--) {
    const pos = file.positions.get(pathKey(path.slice(0, depth)));
    if (pos !== undefined) return file.lines.linePos(pos).line;
  }
  return null;
}

function pathKey(path: readonly PropertyKey[]): string {
  return JSON.stringify(path.map((p) => (typeof p === 'number' ? p : String(p))));
}

/** For every path in the document, where its key (or sequence item, or the root) starts. */
function keyPositions(doc: Document.Parsed): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (node: unknown, path: (string | number)[], at: number | undefined): void => {
    const start = at ?? (node as Node | null)?.range?.[0];
    if (start !== undefined) out.set(pathKey(path), start);
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isScalar(pair.key)) continue;
        const k = pair.key.value;
        if (typeof k !== 'string' && typeof k !== 'number') continue;
        walk(pair.value, [...path, typeof k === 'number' ? String(k) : k], pair.key.range?.[0]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, [...path, i], undefined));
    }
  };
  walk(doc.contents, [], undefined);
  return out;
}

/** Start offsets of keys that repeat an earlier key of the same mapping (linear). */
function duplicateKeyOffsets(doc: Document.Parsed): number[] {
  const out: number[] = [];
  const walk = (node: unknown): void => {
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        const k = isScalar(pair.key) ? pair.key.value : pair.key;
        if (seen.has(k)) out.push((pair.key as Node | null)?.range?.[0] ?? 0);
        seen.add(k);
        walk(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) walk(item);
    }
  };
  walk(doc.contents);
  return out;
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`;
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
  problems: ConfigProblem[],
  warnings: ConfigProblem[],
): void {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(dir, p));
  gateway.outbox.path = abs(gateway.outbox.path);
  gateway.control.socket = abs(gateway.control.socket);
  const tls = gateway.mqtt.tls;
  warnWeakTransport(gateway, file, warnings);
  if (tls) {
    for (const key of ['caFile', 'certFile', 'keyFile'] as const) {
      const p = tls[key];
      if (p === undefined) continue;
      tls[key] = abs(p);
      if (!existsSync(tls[key]!)) {
        problems.push({ file: file.rel, line: lineOf(file, ['mqtt', 'tls', key]), path: `mqtt.tls.${key}`, message: `file not found: ${relative(dir, tls[key]!) || tls[key]}` });
      }
    }
  }
  if (gateway.mqtt.passwordFile !== undefined) {
    const p = abs(gateway.mqtt.passwordFile);
    try {
      secrets.mqttPassword = secretFromFileText(readFileSync(p, 'utf8'));
      const exposed = secretFileExposure(p);
      if (exposed) warnings.push({ file: file.rel, line: lineOf(file, ['mqtt', 'passwordFile']), path: 'mqtt.passwordFile', message: exposed });
    } catch (err) {
      problems.push({
        file: file.rel,
        line: lineOf(file, ['mqtt', 'passwordFile']),
        path: 'mqtt.passwordFile',
        message: `cannot read secret file ${p} (${(err as NodeJS.ErrnoException).code})`,
      });
    }
  } else if (gateway.mqtt.password !== undefined) {
    secrets.mqttPassword = gateway.mqtt.password;
  }
}
