import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkSystem, currentEnv, findMissing, PACKAGE_LIST, parsePackageList } from './requirements.js';

const repo = resolve(import.meta.dirname, '../..');
const empty = mkdtempSync(join(tmpdir(), 'no-tools-'));
afterAll(() => rmSync(empty, { recursive: true, force: true }));

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', fail);
    child.on('exit', (code) => done({ code, out }));
  });
}

describe('system requirements check before the test run', () => {
  const requirements = parsePackageList(readFileSync(PACKAGE_LIST, 'utf8'));

  it('reads one package list that names every tool the suite drives', () => {
    const pkgs = requirements.map((r) => r.pkg);
    expect(pkgs).toEqual(expect.arrayContaining(['mosquitto', 'socat', 'openssl', 'systemd', 'python3', 'python3-gi', 'gir1.2-gst-rtsp-server-1.0']));
    const checks = requirements.flatMap((r) => r.checks.map((c) => c.name));
    expect(checks).toEqual(expect.arrayContaining(['/usr/sbin/mosquitto', 'socat', 'openssl', 'systemd-analyze', 'systemd-notify', 'gi', 'GstRtspServer-1.0']));
    for (const r of requirements) expect(r.why, r.pkg).not.toBe('');
  });

  it('is the list that npm run setup and .ci/run install from', () => {
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.setup).toContain('.ci/setup-debian.sh');
    expect(readFileSync(join(repo, '.ci/run'), 'utf8')).toMatch(/^\.ci\/setup-debian\.sh$/m);
    expect(readFileSync(join(repo, '.ci/setup-debian.sh'), 'utf8')).toContain('.ci/debian-packages.txt');
  });

  it('finds everything on this machine (the suite is running, so the check let it)', () => {
    expect(findMissing(requirements, currentEnv())).toEqual([]);
  });

  it('asks for root when run as another user, and says how', () => {
    const report = checkSystem({ ...currentEnv(), uid: 1000 });
    expect(report).toMatch(/root\s+-\s+tests mount a 2 MB tmpfs to fill a disk for real, and a fake \/sys\/class\/gpio/);
    expect(report).toContain('sudo npm test');
  });

  it('rejects a malformed line with its line number', () => {
    expect(() => parsePackageList('# c\nsocat  bin:socat\n')).toThrow(/debian-packages\.txt:2: "bin:socat"/);
  });

  it('stops `vitest run` before any test on a machine without the tools: one list, one command, exit 1', async () => {
    const vitest = join(repo, 'node_modules/vitest/vitest.mjs');
    const r = await run(process.execPath, [vitest, 'run', 'drivers/modbus/decode.test.ts'], {
      HOME: process.env.HOME,
      PATH: empty,
      EDGE_GATEWAY_SYSTEM_ROOT: empty,
    });
    expect(r.code).toBe(1);
    expect(r.out).toContain('npm test needs system tools this machine lacks; no test was run.');
    for (const req of requirements) expect(r.out).toMatch(new RegExp(`^  .*\\s${req.pkg.replace(/[.+]/g, '\\$&')}\\s`, 'm'));
    expect(r.out).toContain('  npm run setup');
    expect(r.out).toContain(`apt-get install --no-install-recommends ${requirements.map((q) => q.pkg).join(' ')}`);
    expect(r.out).not.toMatch(/Test Files|passed|✓/);
  });
});
