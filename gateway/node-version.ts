/**
 * The Node edge-gateway runs on: package.json's `engines` (test-rigs/system/pinned-node.test.ts
 * keeps the two equal). Its native addons are built for one Node ABI: better-sqlite3's binary
 * segfaults another Node, and newer language APIs fail with a TypeError, neither of which says
 * what is wrong. This module is loaded before anything else, so it uses nothing newer than Node 18.
 */
export const REQUIRED_NODE = { major: 24, minor: 21, range: '^24.21.0' } as const;

/** null when `version` (process.versions.node) is one edge-gateway runs on, else what to tell the user. */
export function wrongNodeMessage(version: string, execPath: string): string | null {
  const [major, minor] = version.split('.').map(Number);
  if (major === REQUIRED_NODE.major && (minor ?? 0) >= REQUIRED_NODE.minor) return null;
  return [
    `edge-gateway: this is Node ${version} (${execPath}); edge-gateway needs Node ${REQUIRED_NODE.range}, the Node its native addons are built for.`,
    '  In a checkout: `npm ci` installs that Node into node_modules/.bin. Start the CLI with `npx edge-gateway ...`, the',
    '  scripts with `npm run ...`, or that Node directly: node_modules/.bin/node dist/gateway/cli.js ...',
    '  On a gateway: install the edge-gateway .deb, which bundles its Node (/usr/bin/edge-gateway).',
    '',
  ].join('\n');
}
