import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import { secretFileExposure, secretFromFileText } from '../../drivers/kit/secret-file.js';
import { basename, extname, join, relative, resolve, isAbsolute } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { deviceConfigSchema, driverModules, type DeviceConfig, type DriverModule } from '../../drivers/registry.js';
import { gatewayFileSchema, type GatewayFile } from './gateway-schema.js';

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
}

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
  }

  const secrets: GatewayConfig['secrets'] = {};
  if (gateway && gatewayFile) resolvePaths(dir, gateway, gatewayFile, secrets, problems, warnings);

  if (problems.length > 0 || !gateway) throw new ConfigError(problems);
  return { dir, gateway, devices, deviceFiles, secrets, warnings };
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
    text = readFileSync(join(dir, rel), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    problems.push({ file: rel, line: null, path: '', message: code === 'ENOENT' ? 'file not found' : `cannot read file (${code})` });
    return undefined;
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      problems.push({ file: rel, line: lines.linePos(e.pos[0]).line, path: '', message: `YAML: ${e.message.split('\n')[0]}` });
    }
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

/** Line of the deepest node that exists along the path (a missing key points at its parent). */
function lineOf(file: ParsedFile, path: readonly PropertyKey[]): number | null {
  for (let depth = path.length; depth >= 0; depth--) {
    const sub = path.slice(0, depth);
    const node = sub.length === 0 ? file.doc.contents : (file.doc.getIn(sub, true) as Node | undefined);
    if (node && node.range) {
      // For a scalar under a key, the key's line is the value's line; for a map, point at the key.
      const keyNode = depth > 0 ? keyOf(file, sub) : undefined;
      const pos = keyNode?.range?.[0] ?? node.range[0];
      return file.lines.linePos(pos).line;
    }
    if (depth > 0 && depth === path.length) {
      const keyNode = keyOf(file, sub);
      if (keyNode?.range) return file.lines.linePos(keyNode.range[0]).line;
    }
  }
  return null;
}

function keyOf(file: ParsedFile, path: readonly PropertyKey[]): Node | undefined {
  const parent = path.length === 1 ? file.doc.contents : file.doc.getIn(path.slice(0, -1), true);
  if (!isMap(parent)) return undefined;
  const last = path[path.length - 1];
  const pair = parent.items.find((it) => isScalar(it.key) && it.key.value === last);
  return pair && isScalar(pair.key) ? pair.key : undefined;
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
