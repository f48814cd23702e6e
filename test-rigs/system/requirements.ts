import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * What the test suite needs from the machine, checked before any test starts (vitest global
 * setup), so a fresh box says in one screen what to install instead of failing 61 tests one stack
 * trace at a time. The package list is .ci/debian-packages.txt, which `npm run setup` and `.ci/run`
 * install from: one list, so the check and the installer cannot disagree.
 */

export type CheckKind = 'cmd' | 'file' | 'py' | 'gi' | 'gst';
export interface Check {
  kind: CheckKind;
  name: string;
}
export interface Requirement {
  pkg: string;
  checks: Check[];
  why: string;
}
export interface Missing {
  pkg: string;
  why: string;
  failed: Check[];
}

export interface CheckEnv {
  /** Directories searched for `cmd:` checks (PATH). */
  path: string;
  /** Prefix for absolute paths (`file:` checks, the Python interpreter); `/` except in the check's own test. */
  root: string;
  /** process.getuid(); undefined where there are no uids. */
  uid: number | undefined;
}

export const PACKAGE_LIST = join(import.meta.dirname, '../../.ci/debian-packages.txt');
/** Debian's python3, where python3-gi lives (a pyenv/venv python on PATH has no gi). */
const DEBIAN_PYTHON = '/usr/bin/python3';
const KINDS: readonly string[] = ['cmd', 'file', 'py', 'gi', 'gst'];

/** `package  kind:name kind:name  # why` per line; `#` starts a comment. */
export function parsePackageList(text: string): Requirement[] {
  const out: Requirement[] = [];
  text.split('\n').forEach((line, i) => {
    const hash = line.indexOf('#');
    const body = (hash < 0 ? line : line.slice(0, hash)).trim();
    if (body === '') return;
    const [pkg, ...words] = body.split(/\s+/);
    const checks = words.map((w) => {
      const colon = w.indexOf(':');
      const kind = w.slice(0, colon);
      if (colon < 1 || !KINDS.includes(kind)) throw new Error(`.ci/debian-packages.txt:${i + 1}: "${w}" is not kind:name with kind one of ${KINDS.join(', ')}`);
      return { kind: kind as CheckKind, name: w.slice(colon + 1) };
    });
    out.push({ pkg: pkg!, checks, why: hash < 0 ? '' : line.slice(hash + 1).trim() });
  });
  return out;
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const PYTHON_CHECKS = `
import importlib, json, sys
failed = []
def gst():
    import gi
    gi.require_version('Gst', '1.0')
    from gi.repository import Gst
    Gst.init(None)
    return Gst
for kind, name in json.loads(sys.argv[1]):
    try:
        if kind == 'py':
            importlib.import_module(name)
        elif kind == 'gi':
            import gi
            ns, version = name.rsplit('-', 1)
            gi.require_version(ns, version)
            importlib.import_module('gi.repository.' + ns)
        elif kind == 'gst' and gst().ElementFactory.find(name) is None:
            failed.append(name)
    except Exception:
        failed.append(name)
print(json.dumps(failed))
`;

/** Which Python-side checks fail: all of them when the interpreter itself is missing. */
function failingPythonChecks(checks: Check[], env: CheckEnv): Set<string> {
  if (checks.length === 0) return new Set();
  const python = join(env.root, DEBIAN_PYTHON);
  const all = new Set(checks.map((c) => c.name));
  if (!executable(python)) return all;
  const r = spawnSync(python, ['-c', PYTHON_CHECKS, JSON.stringify(checks.map((c) => [c.kind, c.name]))], { encoding: 'utf8', timeout: 30_000 });
  try {
    return new Set(JSON.parse(r.stdout) as string[]);
  } catch {
    return all;
  }
}

export function findMissing(requirements: Requirement[], env: CheckEnv): Missing[] {
  const dirs = env.path.split(delimiter).filter(Boolean);
  const pythonFailed = failingPythonChecks(
    requirements.flatMap((r) => r.checks).filter((c) => c.kind === 'py' || c.kind === 'gi' || c.kind === 'gst'),
    env,
  );
  const ok = (c: Check): boolean => {
    switch (c.kind) {
      case 'cmd':
        return dirs.some((d) => executable(join(d, c.name)));
      case 'file':
        return executable(join(env.root, c.name));
      default:
        return !pythonFailed.has(c.name);
    }
  };
  return requirements
    .map((r) => ({ pkg: r.pkg, why: r.why, failed: r.checks.filter((c) => !ok(c)) }))
    .filter((m) => m.failed.length > 0);
}

/** One screen: what is missing, from which package, for what, and the one command that fixes it. */
export function missingReport(missing: Missing[], needsRoot: boolean): string {
  const rows = missing.map((m) => [m.failed.map((c) => c.name).join(' '), m.pkg, m.why]);
  if (needsRoot) rows.push(['root', '-', 'tests mount a 2 MB tmpfs to fill a disk for real, and a fake /sys/class/gpio in a mount namespace (unshare) for GPIO outputs']);
  const w0 = Math.max(7, ...rows.map((r) => r[0]!.length));
  const w1 = Math.max(14, ...rows.map((r) => r[1]!.length));
  const line = (r: string[]) => `  ${r[0]!.padEnd(w0)}  ${r[1]!.padEnd(w1)}  ${r[2]}`.trimEnd();
  const out = ['', 'npm test needs system tools this machine lacks; no test was run.', '', line(['missing', 'Debian package', 'needed for']), ...rows.map(line), ''];
  if (missing.length > 0) {
    out.push(
      'Install them (Debian / Raspberry Pi OS; uses sudo when not root):',
      '',
      '  npm run setup',
      '',
      `which runs: apt-get install --no-install-recommends ${missing.map((m) => m.pkg).join(' ')}`,
    );
  }
  if (needsRoot) out.push('', 'Run the tests as root (CI does): sudo npm test');
  out.push('');
  return out.join('\n');
}

/** null when everything is there, else the report. */
export function checkSystem(env: CheckEnv, listFile = PACKAGE_LIST): string | null {
  const missing = findMissing(parsePackageList(readFileSync(listFile, 'utf8')), env);
  const needsRoot = env.uid !== undefined && env.uid !== 0;
  return missing.length > 0 || needsRoot ? missingReport(missing, needsRoot) : null;
}

export function currentEnv(): CheckEnv {
  return { path: process.env.PATH ?? '', root: process.env.EDGE_GATEWAY_SYSTEM_ROOT ?? '/', uid: process.getuid?.() };
}
