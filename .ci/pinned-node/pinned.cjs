'use strict';
/**
 * Where the project's pinned Node lives in a checkout: the node-linux-<arch> package (the npm
 * registry's official Node binaries, headers included) that package.json's optionalDependencies
 * name with an exact version. Plain CommonJS that any Node >= 18 runs: npm may be started by the
 * distribution's Node.
 */
const { existsSync, readFileSync, realpathSync } = require('node:fs');
const { dirname, join } = require('node:path');

/** The checkout: the nearest folder up from here whose package.json is edge-gateway's (this file also runs from node_modules/@edge-gateway/pinned-node, npm's copy of this folder). */
function findRoot(from = __dirname) {
  for (let dir = from; ; dir = dirname(dir)) {
    try {
      if (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name === 'edge-gateway') return dir;
    } catch {}
    if (dirname(dir) === dir) throw new Error(`no edge-gateway package.json above ${from}`);
  }
}
const root = findRoot();

/** { version, dir, node } for this CPU, or null where the registry has no Node package for it. */
function pinnedNode(projectRoot = root) {
  const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8'));
  const name = `node-linux-${process.arch}`;
  const version = pkg.optionalDependencies && pkg.optionalDependencies[name];
  if (!version) return null;
  const dir = join(projectRoot, 'node_modules', name);
  return { name, version, dir, node: join(dir, 'bin', 'node') };
}

/** Is `execPath` the pinned Node (same file, through any symlinks)? */
function isPinned(execPath, pinned) {
  if (!pinned || !execPath || !existsSync(pinned.node)) return false;
  try {
    return realpathSync(execPath) === realpathSync(pinned.node);
  } catch {
    return false;
  }
}

module.exports = { root, pinnedNode, isPinned };
