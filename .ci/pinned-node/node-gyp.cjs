#!/usr/bin/env node
'use strict';
/**
 * `node-gyp` for the native addons `npm ci` compiles (epoll, through onoff: NAN, so tied to one
 * Node's ABI; @serialport/bindings-cpp only when it has no prebuild).
 *
 * npm runs an addon's `node-gyp rebuild` with node_modules/.bin first on PATH. This package (a
 * devDependency; .npmrc's install-links=true installs it as a copy, whose bins npm links before
 * any dependency's install script, where a symlinked folder's come only after them) puts this file
 * there as `node-gyp`, and the node-linux-<arch> package puts the project's pinned Node there as
 * `node`, which runs it. Whatever Node started npm, the addon is then compiled against the headers
 * of the Node that runs it (that package's include/node): node-gyp would otherwise download them
 * from nodejs.org, or take a `nodedir` from npm's config (Debian-style `nodedir=/usr`, the
 * distribution's Node), which builds for the wrong Node. Only an explicit --nodedir on the command
 * line (the .deb build, cross-compiling) is left alone. Run by any other Node (npm started on the
 * distribution's Node, which may have no headers), it compiles nothing and says so: postinstall.cjs
 * then runs the install again on the pinned Node, and compiles there.
 */
const { existsSync, realpathSync } = require('node:fs');
const { dirname, join } = require('node:path');
const { root, pinnedNode, isPinned } = require('./pinned.cjs');

const fail = (msg) => {
  process.stderr.write(`edge-gateway node-gyp: ${msg}\n`);
  process.exit(1);
};

const args = process.argv.slice(2);
if (!args.some((a) => a === '--nodedir' || a.startsWith('--nodedir='))) {
  const pinned = pinnedNode();
  if (!isPinned(process.execPath, pinned)) {
    // npm started on another Node, before node_modules/.bin/node existed: whatever this compiled
    // would fit the wrong Node, and postinstall.cjs installs everything again on the pinned one.
    process.stderr.write(
      `edge-gateway: not compiling ${process.env.npm_package_name ?? 'this addon'} on Node ${process.versions.node}; ` +
        `it is compiled when npm runs again on edge-gateway's own Node ${pinned ? pinned.version : '(none for ' + process.arch + ')'}\n`,
    );
    process.exit(0);
  }
  delete process.env.npm_config_nodedir;
  args.unshift(`--nodedir=${pinned.dir}`);
}

// The project's own node-gyp (a devDependency, like the pinned Node), then npm's. Not the
// distribution's first: Debian's node-gyp links every addon against its own Node's libnode
// (addon.gypi: -lnode, libnode.so.108 on Debian 12), which the pinned Node then loads beside
// itself, and the process dies in free() or the addon does not load. npm's own (next to
// npm-cli.js, or where Debian's npm package keeps it unbundled) is the fallback: the .deb build
// prunes devDependencies.
function findNodeGyp() {
  const candidates = [join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')];
  if (process.env.npm_execpath) {
    const npmBin = dirname(realpathSync(process.env.npm_execpath));
    candidates.push(join(npmBin, '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
    try {
      candidates.push(require.resolve('node-gyp/bin/node-gyp.js', { paths: [npmBin] }));
    } catch {}
  }
  candidates.push('/usr/share/nodejs/node-gyp/bin/node-gyp.js', '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
  return candidates.find((c) => existsSync(c));
}
const nodeGyp = findNodeGyp();
if (!nodeGyp) fail(`cannot find npm's node-gyp (npm_execpath=${process.env.npm_execpath ?? 'unset'})`);
process.argv = [process.argv[0], nodeGyp, ...args];
require(nodeGyp);
