/**
 * Checks systemd/edge-gateway.service with systemd's own tools. systemd-analyze works without a
 * booted systemd when given a root directory holding the unit, the binaries it names and the
 * stock units it depends on; this test builds such a root in a temp dir.
 * (Lives under gateway/systemd/ because vitest only collects tests from the source folders.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAEMON_NODE_FLAGS } from '../node-flags.js';
import { execFile } from 'node:child_process';
import { chmod, copyFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const unitPath = join(repo, 'systemd/edge-gateway.service');
const analyzeBin = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p)) ?? null;

/** KEY -> every value it is given in the unit (directives such as DeviceAllow repeat). */
function directives(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('[')) continue;
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    out.set(key, [...(out.get(key) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

async function analyze(root: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(analyzeBin!, [...args, `--root=${root}`, 'edge-gateway.service'], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}

async function makeRoot(unitText: string): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'edge-gw-unit-'));
  await mkdir(join(root, 'etc/systemd/system'), { recursive: true });
  await mkdir(join(root, 'opt/edge-gateway/current/bin'), { recursive: true });
  await mkdir(join(root, 'bin'), { recursive: true });
  await mkdir(join(root, 'usr/lib/systemd'), { recursive: true });
  await writeFile(join(root, 'etc/systemd/system/edge-gateway.service'), unitText);
  const bin = join(root, 'opt/edge-gateway/current/bin/edge-gateway');
  await writeFile(bin, '#!/bin/sh\n');
  await chmod(bin, 0o755);
  // Every command the unit runs must exist in the root, or verify complains.
  for (const bin of ['kill', 'chgrp', 'chmod']) {
    await copyFile(`/bin/${bin}`, join(root, 'bin', bin));
    await chmod(join(root, 'bin', bin), 0o755);
  }
  // Stock units (sysinit.target, basic.target, ...) for the default dependencies.
  await cp('/usr/lib/systemd/system', join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
  return root;
}

describe('systemd/edge-gateway.service', () => {
  let unitText = '';
  const roots: string[] = [];
  beforeAll(async () => {
    unitText = await readFile(unitPath, 'utf8');
  });
  afterAll(async () => {
    for (const r of roots) await rm(r, { recursive: true, force: true });
  });

  it('matches what the daemon code and install.sh rely on', () => {
    const d = directives(unitText);
    expect(d.get('Type')).toEqual(['notify']);
    // notify.ts sends through a systemd-notify child process: "main" would drop its datagrams.
    expect(d.get('NotifyAccess')).toEqual(['all']);
    expect(d.get('WatchdogSec')).toEqual(['30']);
    expect(d.get('ExecStart')).toEqual(['/opt/edge-gateway/current/bin/edge-gateway run --config /etc/edge-gateway']);
    expect(d.get('ExecReload')).toEqual(['/bin/kill -HUP $MAINPID']);
    expect(d.get('User')).toEqual(['edge-gateway']);
    expect(d.get('StateDirectory')).toEqual(['edge-gateway']);
    expect(d.get('ConfigurationDirectory')).toEqual(['edge-gateway']);
    expect(d.get('RuntimeDirectory')).toEqual(['edge-gateway']);
    expect(d.get('CapabilityBoundingSet')).toEqual(['']);
    expect(d.get('DevicePolicy')).toEqual(['closed']);
    // A group that may not exist on the box would fail every start with 216/GROUP.
    expect(d.get('SupplementaryGroups')).toEqual(['dialout']);
    // V8's JIT needs W+X pages.
    expect(d.has('MemoryDenyWriteExecute')).toBe(false);
    // The deployed daemon runs with the node flags the tests and the benchmark measure.
    const nodeOptions = (d.get('Environment') ?? []).find((e) => e.replace(/^"/, '').startsWith('NODE_OPTIONS='));
    for (const flag of DAEMON_NODE_FLAGS) expect(nodeOptions).toContain(flag);
  });

  it('passes systemd-analyze verify with no warnings', async () => {
    if (analyzeBin === null) {
      // Not skipped: on CI a missing tool is a broken pipeline, locally it is reported.
      expect(process.env.CI, 'systemd-analyze missing on CI: apt-get install systemd').toBeFalsy();
      console.warn('systemd-analyze not found; unit not verified (apt-get install systemd)');
      return;
    }
    const root = await makeRoot(unitText);
    roots.push(root);
    const result = await analyze(root, ['verify']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('the verify harness does catch a broken unit', async () => {
    if (analyzeBin === null) {
      expect(process.env.CI, 'systemd-analyze missing on CI: apt-get install systemd').toBeFalsy();
      return;
    }
    const broken = unitText.replace('WatchdogSec=30', 'WatchdogSec=thirty').replace('ProtectHome=yes', 'ProtectHomes=yes');
    const root = await makeRoot(broken);
    roots.push(root);
    const result = await analyze(root, ['verify']);
    expect(result.stderr).toMatch(/Failed to parse sec value.*thirty/);
    expect(result.stderr).toMatch(/Unknown key 'ProtectHomes'/);
  });

  it('keeps its systemd-analyze security exposure at or below 2.0', async () => {
    if (analyzeBin === null) {
      expect(process.env.CI, 'systemd-analyze missing on CI: apt-get install systemd').toBeFalsy();
      return;
    }
    const root = await makeRoot(unitText);
    roots.push(root);
    const result = await analyze(root, ['security', '--offline=yes', '--no-pager']);
    const m = /Overall exposure level for edge-gateway\.service: (\d+\.\d+)/.exec(result.stdout);
    expect(m, result.stdout + result.stderr).not.toBeNull();
    expect(Number(m![1])).toBeLessThanOrEqual(2.0);
  });
});
