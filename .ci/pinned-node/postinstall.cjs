#!/usr/bin/env node
'use strict';
/**
 * package.json's postinstall: make the pinned Node (node-linux-<arch>, an optional dependency) the
 * one every npm script, npx and the tests run on.
 *
 * 1. node_modules/.bin/node links to it. npm puts node_modules/.bin first on PATH for scripts and
 *    npx, so `node …` and every `#!/usr/bin/env node` bin (tsc, vitest) start it. npm links that
 *    bin itself, but npm 10 removes it again when it drops the other CPU's node-linux package, whose
 *    bin has the same name; so it is (re)made here.
 * 2. When npm itself ran on another Node (the distribution's nodejs, any version >= 18), npm
 *    resolved optional packages and engines for that Node (Node 18 drops the native binding vitest
 *    needs), and native addons were built before this hook could run. So the same npm command runs
 *    once more on the pinned Node, which installs and compiles everything for the Node that will
 *    load it. Plain CommonJS: this runs on whatever Node npm found first on PATH.
 *    Only when npm is installing this checkout, though: `npx edge-gateway` in the checkout runs this
 *    hook too (npm 7+ links the checkout into its npx cache to find the bin, and runs the linked
 *    package's install scripts there), and installing the checkout again then rewrote its
 *    node_modules under whatever ran from it: `npm test`'s vitest workers lost their files mid-run.
 */
const { spawnSync } = require('node:child_process');
const { existsSync, lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync } = require('node:fs');
const { delimiter, dirname, join, relative } = require('node:path');
const { root, pinnedNode, isPinned } = require('./pinned.cjs');

const say = (msg) => process.stderr.write(`edge-gateway: ${msg}\n`);
const fail = (msg) => {
  say(`error: ${msg}`);
  process.exit(1);
};

const pinned = pinnedNode();
if (!pinned) fail(`package.json names no Node package for this CPU (${process.arch}); edge-gateway runs on Linux x64 and arm64`);
if (!existsSync(pinned.node)) {
  fail(`${pinned.name}@${pinned.version} is not installed (left out by --omit=optional or --no-optional?): it is the Node edge-gateway runs on`);
}

const binDir = join(root, 'node_modules', '.bin');
const link = join(binDir, 'node');
const target = relative(binDir, pinned.node);
let current = null;
try {
  current = lstatSync(link).isSymbolicLink() ? readlinkSync(link) : '(not a symlink)';
} catch {}
if (current !== target) {
  mkdirSync(binDir, { recursive: true });
  rmSync(link, { force: true });
  symlinkSync(target, link);
}

/** The npm commands that install this checkout's own node_modules, and the one that installs it again. */
const reinstallFor = { ci: 'ci', 'install-ci-test': 'ci', install: 'install', 'install-test': 'install', update: 'install', rebuild: 'install' };

const npmNode = process.env.npm_node_execpath;
if (npmNode && !isPinned(npmNode, pinned)) {
  const npmCommand = process.env.npm_command;
  if (!Object.hasOwn(reinstallFor, npmCommand)) {
    say(`\`npm ${npmCommand ?? '(no npm_command)'}\` is not installing this checkout (npx links it into its cache): not installing it again`);
    process.exit(0);
  }
  if (process.env.EDGE_GATEWAY_PINNED_REINSTALL) fail(`npm still runs on ${npmNode}, not ${pinned.node}`);
  const npmCli = process.env.npm_execpath;
  if (!npmCli) fail('npm_execpath is not set: run this through npm');
  const command = reinstallFor[npmCommand];
  say(
    `npm ran on Node ${spawnSync(npmNode, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim() || '?'} (${npmNode}); ` +
      `running \`npm ${command}\` again on edge-gateway's own Node ${pinned.version}, so that packages and native addons fit the Node that runs them`,
  );
  const r = spawnSync(pinned.node, [npmCli, command, '--no-audit', '--no-fund'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, PATH: [dirname(pinned.node), process.env.PATH].join(delimiter), EDGE_GATEWAY_PINNED_REINSTALL: '1' },
  });
  if (r.status !== 0) fail(`\`npm ${command}\` on Node ${pinned.version} failed (${r.error ? r.error.message : r.signal ?? 'exit ' + r.status})`);
}
